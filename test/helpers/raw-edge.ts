// An edge started from TOML the test writes itself (ranges, UDP, SNI routes, PROXY protocol:
// what the typed EdgeConfig does not describe). `{{metrics}}` in the text becomes the free
// metrics address; the rest is used as written.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '@sluice/test-kit';
import { EDGE_NAME } from './edge-config.ts';
import { type EdgeProcess, startEdge } from './edge-process.ts';
import { MetricsClient } from './metrics.ts';
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
    writeFileSync(
      file,
      `name = "${EDGE_NAME}"\nshards = ${shards}\nmetrics = "127.0.0.1:${metricsPort}"\n\n${body}\n`,
    );
  write(rules);
  const edge = await startEdge({ configFile: file, relayPath, env });
  return { edge, metrics: new MetricsClient(metricsPort), rewrite: write };
}
