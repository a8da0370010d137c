// An edge started from TOML the test writes itself (ranges, UDP, SNI routes, PROXY protocol:
// what the typed EdgeConfig does not describe). `{{metrics}}` in the text becomes the free
// metrics address; the rest is used as written.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EDGE_NAME } from './edge-config.ts';
import { type EdgeProcess, startEdge } from './edge-process.ts';
import { MetricsClient } from './metrics.ts';
import { freePort } from './ports.ts';
import type { RelayPath } from './relay-paths.ts';
import { makeTempDir } from './temp-dir.ts';

export interface RawEdge {
  readonly edge: EdgeProcess;
  readonly metrics: MetricsClient;
  /** Rewrites the file (same `{{metrics}}` substitution), e.g. before a SIGHUP. */
  rewrite(rules: string): void;
}

/** `env` is added to the edge's environment (e.g. SLUICE_DNS_SERVERS). */
export async function launchRawEdge(
  relayPath: RelayPath,
  rules: string,
  shards = 2,
  env: Record<string, string> = {},
): Promise<RawEdge> {
  const dir = makeTempDir();
  const metricsPort = await freePort();
  const file = join(dir, 'edge.toml');
  const write = (body: string): void =>
    writeFileSync(file, `name = "${EDGE_NAME}"\nshards = ${shards}\nmetrics = "127.0.0.1:${metricsPort}"\n\n${body}\n`);
  write(rules);
  const edge = await startEdge({ configFile: file, relayPath, env });
  return { edge, metrics: new MetricsClient(metricsPort), rewrite: write };
}

/** A block of `count` consecutive ports free for TCP and UDP on `host`, found by binding them. */
export async function freePortBlock(count: number, host = '127.0.0.1'): Promise<number> {
  const { createServer } = await import('node:net');
  const { createSocket } = await import('node:dgram');
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const held: { close(): void }[] = [];
    let ok = true;
    for (let port = base; port < base + count && ok; port++) {
      ok = await new Promise<boolean>((resolve) => {
        const server = createServer();
        server.once('error', () => resolve(false));
        server.listen({ host, port, exclusive: true }, () => {
          held.push(server);
          const udp = createSocket('udp4');
          udp.once('error', () => resolve(false));
          udp.bind({ address: host, port, exclusive: true }, () => {
            held.push(udp);
            resolve(true);
          });
        });
      });
    }
    for (const h of held) h.close();
    if (ok) return base;
  }
  throw new Error(`no block of ${count} free ports found on ${host}`);
}
