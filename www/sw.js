// Offline support: the page, the seqlens package (wasm + worker), the bundled models (demo,
// and CI-SpliceAI with its gene tables) and the sample data are cached on first visit and
// served from the cache afterwards. Only GET requests to this origin are handled; user files
// are never fetched, so nothing of theirs is cached or sent. Everything it serves carries
// COOP/COEP, so the page is cross-origin isolated (and its worker gets the threaded build) from
// the second visit on, even on a static host that sends neither header.
const CACHE = 'seqlens-v3';
const ASSETS = [
  'index.html', 'app.js', 'style.css',
  '../pkg/index.js', '../pkg/client.js', '../pkg/worker.js', '../pkg/seqlens_core.js', '../pkg/seqlens_core_bg.wasm',
  '../pkg/threads/seqlens_core.js', '../pkg/threads/seqlens_core_bg.wasm',
  '../examples/models/demo.onnx', '../examples/data/sample.fa',
  '../examples/data/variants.vcf', '../examples/data/genome.fa', '../examples/data/genome.fa.fai',
  // the splice view: CI-SpliceAI (the default model), both bundled gene tables and the example
  '../examples/models/cispliceai/cispliceai.onnx',
  '../examples/models/cispliceai/genes_grch38.tsv.gz', '../examples/models/cispliceai/genes_grch37.tsv.gz',
  '../examples/data/splice/variants.vcf', '../examples/data/splice/genes.csv',
  '../examples/data/splice/genome.fa.gz', '../examples/data/splice/genome.fa.gz.fai',
  '../examples/data/splice/genome.fa.gz.gzi',
];

self.addEventListener('install', (ev) => {
  ev.waitUntil(caches.open(CACHE).then((c) => c.addAll(ASSETS)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (ev) => {
  ev.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// The response with the headers that make a document cross-origin isolated. Every resource
// here is same-origin, so require-corp blocks nothing; an error or opaque response (status 0)
// passes unchanged.
function isolated(res) {
  if (res.status === 0) return res;
  const headers = new Headers(res.headers);
  headers.set('Cross-Origin-Opener-Policy', 'same-origin');
  headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}

// Network first (so a rebuilt package is picked up), the cache when offline.
self.addEventListener('fetch', (ev) => {
  const req = ev.request;
  if (req.method !== 'GET' || new URL(req.url).origin !== self.location.origin) return;
  ev.respondWith(
    fetch(req)
      .then((res) => {
        if (res.ok) {
          const copy = res.clone();
          caches.open(CACHE).then((c) => c.put(req, copy));
        }
        return res;
      })
      .catch(() => caches.match(req, { ignoreSearch: true }).then((r) => r ?? Response.error()))
      .then(isolated),
  );
});
