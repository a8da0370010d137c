// HTTP on the `metrics` address: /metrics (Prometheus text), /healthz and /readyz. Its own
// listener, so scraping and probes need no API token and the API can stay on loopback.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serverError } from './errors.ts';
import type { ServerMetrics } from './metrics.ts';
import { storeProblem } from './readiness.ts';
import type { Store } from './store/store.ts';

export function startMetricsServer(
  metrics: ServerMetrics,
  store: Store,
  host: string,
  port: number,
): Promise<{ server: Server; address: AddressInfo }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://server');
    const sendJson = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(`${JSON.stringify(body)}\n`);
    };
    if (req.method === 'GET' && url.pathname === '/metrics') {
      metrics.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' });
          res.end(text);
        },
        (error: unknown) => sendJson(500, { error: { code: 'internal', message: String(error) } }),
      );
      return;
    }
    if (req.method === 'GET' && url.pathname === '/healthz') return sendJson(200, { ok: true });
    if (req.method === 'GET' && url.pathname === '/readyz') {
      void storeProblem(store).then((problem) =>
        problem === null
          ? sendJson(200, { ready: true })
          : sendJson(503, {
              error: { code: 'store_unavailable', message: `the database cannot be read: ${problem}` },
            }),
      );
      return;
    }
    sendJson(404, { error: { code: 'not_found', message: `no route ${req.method} ${url.pathname}` } });
  });
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        serverError(
          'listen_failed',
          `cannot listen for metrics on ${host}:${port}: ${error.code ?? error.message}`,
        ),
      ),
    );
    server.listen({ host, port }, () => resolve({ server, address: server.address() as AddressInfo }));
  });
}
