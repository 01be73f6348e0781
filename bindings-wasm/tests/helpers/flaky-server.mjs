// A real HTTP server on 127.0.0.1 that answers from a script of responses,
// one per request, then 200 "ok".
import { createServer } from 'node:http';

export async function startFlakyServer(script) {
  const requests = [];
  const queue = [...script];
  const server = createServer((req, res) => {
    requests.push({ method: req.method, url: req.url });
    const next = queue.shift() ?? { status: 200, body: 'ok' };
    res.writeHead(next.status, next.headers ?? {});
    res.end(next.body ?? '');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
