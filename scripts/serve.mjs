// A static file server on 127.0.0.1 for the www/ page and the browser tests, serving the
// repository root. `node scripts/serve.mjs [port]` serves until stopped; tests import serve().
// Responses carry COOP/COEP, so pages are cross-origin isolated and the package's worker runs
// the threaded build; serve(port, { isolated: false }) serves without them, and
// serve(port, { root }) serves another folder.
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.onnx': 'application/octet-stream',
  '.gz': 'application/octet-stream',
  '.gzi': 'application/octet-stream',
};

// What makes a page cross-origin isolated (SharedArrayBuffer, so wasm threads): every
// resource here is same-origin, so require-corp costs nothing.
const ISOLATION = {
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'require-corp',
};

export async function serve(port = 0, { isolated = true, root = ROOT } = {}) {
  const server = createServer(async (req, res) => {
    let path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
    // a directory's address serves its index.html (the README's http://127.0.0.1:8000/www/)
    if (path.endsWith('/')) path += 'index.html';
    if (path.includes('..')) {
      res.writeHead(403).end();
      return;
    }
    try {
      // A directory named without its slash (http://127.0.0.1:8000/www) goes to the address
      // with it, so that the page's relative links resolve inside the directory.
      if (!path.endsWith('/') && (await stat(join(root, path)).catch(() => null))?.isDirectory()) {
        res.writeHead(301, { location: `${path}/` }).end();
        return;
      }
      const body = await readFile(join(root, path));
      res.writeHead(200, {
        'content-type': TYPES[extname(path)] ?? 'text/plain; charset=utf-8',
        ...(isolated ? ISOLATION : {}),
      });
      res.end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise((ok) => server.listen(port, '127.0.0.1', ok));
  return { server, url: `http://127.0.0.1:${server.address().port}` };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { url } = await serve(Number(process.argv[2] ?? 8000));
  console.log(`seqlens page: ${url}/www/  (127.0.0.1 only; Ctrl-C to stop)`);
}
