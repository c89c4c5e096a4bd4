/*
 * sw.js - the door page's service worker: the page itself (HTML, script,
 * style, the QR reader) is kept in a cache, so that it opens without a
 * network. Each answer comes from the cache at once and the copy is
 * refreshed behind it, so a new version is used from the next opening.
 * The API is never cached here: the page keeps its data in IndexedDB.
 */
'use strict';

const CACHE = 'eventapi-checkin-v1';
const PAGE = ['/checkin/', '/checkin/checkin.js', '/checkin/checkin.css',
              '/checkin/checkin.webmanifest', '/checkin/jsQR.js'];

self.addEventListener('install', (event) => {
  /* Each file alone: a server without the QR reader still has a page. */
  event.waitUntil(caches.open(CACHE)
    .then((cache) => Promise.all(PAGE.map((url) => cache.add(url).catch(() => null))))
    .then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(caches.keys()
    .then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
    .then(() => self.clients.claim()));
});

function pageUrl(request) {
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || request.method !== 'GET')
    return null;
  if (url.pathname === '/checkin' || url.pathname === '/checkin/' || url.pathname === '/checkin/index.html')
    return '/checkin/';
  return PAGE.includes(url.pathname) ? url.pathname : null;
}

self.addEventListener('fetch', (event) => {
  const key = pageUrl(event.request);
  if (key === null)
    return; /* the API and everything else: the network, as without a worker */
  event.respondWith(caches.open(CACHE).then(async (cache) => {
    const kept = await cache.match(key);
    const fresh = fetch(key, {cache: 'no-cache'}).then((response) => {
      if (response.ok)
        cache.put(key, response.clone());
      return response;
    });
    if (kept) {
      event.waitUntil(fresh.catch(() => null));
      return kept;
    }
    return fresh;
  }));
});
