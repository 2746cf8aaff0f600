// Offline support: the page, the seqlens package (wasm + worker) and the bundled demo model
// and sample data are cached on first visit and served from the cache afterwards. Only GET
// requests to this origin are handled; user files are never fetched, so nothing of theirs is
// cached or sent.
const CACHE = 'seqlens-v1';
const ASSETS = [
  'index.html', 'app.js', 'style.css',
  '../pkg/index.js', '../pkg/client.js', '../pkg/worker.js', '../pkg/seqlens_core.js', '../pkg/seqlens_core_bg.wasm',
  '../examples/models/demo.onnx', '../examples/data/sample.fa',
  '../examples/data/variants.vcf', '../examples/data/genome.fa', '../examples/data/genome.fa.fai',
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
      .catch(() => caches.match(req, { ignoreSearch: true }).then((r) => r ?? Response.error())),
  );
});
