// A local static server for the browser demo and the browser tests, with the
// demo's flaky endpoint. Serves the repository root on 127.0.0.1.
//
//   node examples/browser/serve.mjs [port]     (after `make wasm-build`)
//   then open http://127.0.0.1:8080/examples/browser/
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
};

/**
 * The demo's service: call n of run `run` at virtual time `t` (ms) fails
 * when t lies in an outage of examples/scenario.json or n % fail_every == 0 —
 * the service of examples/README.md, now behind HTTP.
 */
function flakyService() {
  const calls = new Map();
  return async (url, res) => {
    const scenario = JSON.parse(await readFile(join(ROOT, 'examples/scenario.json'), 'utf8'));
    const { outages_ms: outages, fail_every: failEvery } = scenario.service;
    const run = url.searchParams.get('run') ?? 'default';
    const t = Number(url.searchParams.get('t') ?? 0);
    const n = (calls.get(run) ?? 0) + 1;
    calls.set(run, n);
    const down = outages.some(([a, b]) => t >= a && t < b) || n % Math.max(1, failEvery) === 0;
    res.writeHead(down ? 503 : 200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify({ call: n, ok: !down }));
  };
}

/**
 * Starts the server. `routes` adds handlers by path: (url, res, req) => void.
 * Resolves with { url, close }.
 */
export async function startServer({ port = 0, routes = {} } = {}) {
  const handlers = { '/api/flaky': flakyService(), ...routes };
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    try {
      const handler = handlers[url.pathname];
      if (handler) return await handler(url, res, req);
      let path = normalize(join(ROOT, decodeURIComponent(url.pathname)));
      if (path !== ROOT && !path.startsWith(ROOT + sep)) {
        res.writeHead(403).end();
        return;
      }
      if (url.pathname.endsWith('/')) path = join(path, 'index.html');
      const body = await readFile(path);
      res.writeHead(200, { 'content-type': TYPES[extname(path)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(body);
    } catch (e) {
      res.writeHead(e.code === 'ENOENT' || e.code === 'EISDIR' ? 404 : 500, { 'content-type': 'text/plain' });
      res.end(String(e.message));
    }
  });
  await new Promise((ok) => server.listen(port, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((ok) => server.close(ok)),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { url } = await startServer({ port: Number(process.argv[2] ?? 8080) });
  console.log(`serving the repository on ${url} — open ${url}/examples/browser/`);
}
