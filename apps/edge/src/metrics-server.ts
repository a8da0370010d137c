// HTTP on the `metrics` address: /metrics (Prometheus text, or JSON with ?format=json),
// /healthz, and, only with SLUICE_TEST_HOOKS=1, POST /debug/shards/N/crash.

import { createServer, type Server } from 'node:http';
import type { ShardSupervisor } from '@sluice/core';
import { EDGE_ERRORS } from './errors.ts';
import type { EdgeMetrics } from './metrics.ts';

export interface MetricsServerOptions {
  readonly host: string;
  readonly port: number;
  readonly metrics: EdgeMetrics;
  readonly supervisor: ShardSupervisor;
  readonly testHooks: boolean;
}

export function startMetricsServer(options: MetricsServerOptions): Promise<Server> {
  const { metrics, supervisor } = options;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://edge');
    const send = (status: number, type: string, body: string): void => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    const sendJson = (status: number, body: unknown): void =>
      send(status, 'application/json', `${JSON.stringify(body)}\n`);

    if (req.method === 'GET' && url.pathname === '/metrics') {
      if (url.searchParams.get('format') === 'json') return sendJson(200, metrics.json());
      metrics.registry.metrics().then(
        (text) => send(200, metrics.registry.contentType, text),
        (err: unknown) => sendJson(500, { error: { code: 'metrics_failed', message: String(err) } }),
      );
      return;
    }
    if (req.method === 'GET' && url.pathname === '/healthz') {
      const running = supervisor.shardsRunning;
      const ok = running === supervisor.shardCount;
      return sendJson(ok ? 200 : 503, {
        status: ok ? 'ok' : 'degraded',
        shards_running: running,
        shards: supervisor.shardCount,
      });
    }
    const crash = /^\/debug\/shards\/(\d+)\/crash$/.exec(url.pathname);
    if (options.testHooks && req.method === 'POST' && crash) {
      const crashed = supervisor.crashShard(Number(crash[1]));
      return sendJson(crashed ? 202 : 404, { crashed });
    }
    sendJson(404, { error: { code: 'not_found', message: `no route ${req.method} ${url.pathname}` } });
  });
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      const address = options.host.includes(':')
        ? `[${options.host}]:${options.port}`
        : `${options.host}:${options.port}`;
      reject(EDGE_ERRORS.error('metrics_listen_failed', { address, reason: listenReason(error) }));
    };
    server.once('error', onError);
    // SO_REUSEPORT: a successor edge (a hand-over) serves /metrics beside this one until this
    // one closes its listener; a socket without it on the port still makes this bind fail.
    server.listen({ host: options.host, port: options.port, reusePort: true }, () => {
      server.removeListener('error', onError);
      resolve(server);
    });
  });
}

function listenReason(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'EADDRINUSE':
      return 'EADDRINUSE: another socket holds the address';
    case 'EACCES':
      return 'EACCES: a port below 1024 needs CAP_NET_BIND_SERVICE';
    case 'EADDRNOTAVAIL':
      return 'EADDRNOTAVAIL: not an address of this host';
    default:
      return error.code ?? error.message;
  }
}
