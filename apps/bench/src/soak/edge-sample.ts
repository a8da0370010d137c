// What the soak watches on the edge once a second: its descriptors (and how many are pipes),
// its RSS, and from its own /metrics?format=json the connections and UDP flows it holds.

import { readdirSync, readlinkSync } from 'node:fs';
import { readEdgeJson } from '../edge-json.ts';
import { rssKiB } from '../rss.ts';

export interface EdgeSample {
  /** Seconds since the soak started. */
  readonly t: number;
  readonly phase: string;
  readonly fds: number;
  readonly pipes: number;
  readonly rssMiB: number;
  /** `connections.open`: TCP connections the edge holds. */
  readonly connections: number;
  /** UDP flows over every rule. */
  readonly flows: number;
  readonly shardRestarts: number;
  /** Transfers (or held connections) the client has finished so far in this phase. */
  readonly clientDone: number;
}

function descriptors(pid: number): { fds: number; pipes: number } {
  const dir = `/proc/${pid}/fd`;
  let fds = 0;
  let pipes = 0;
  for (const fd of readdirSync(dir)) {
    let target: string;
    try {
      target = readlinkSync(`${dir}/${fd}`);
    } catch {
      continue; // closed between the listing and the read
    }
    fds++;
    if (target.startsWith('pipe:')) pipes++;
  }
  return { fds, pipes };
}

export async function sampleEdge(
  pid: number,
  metricsPort: number,
  t: number,
  phase: string,
  clientDone: number,
): Promise<EdgeSample> {
  const json = await readEdgeJson(metricsPort);
  if (json === null) throw new Error(`the edge's metrics on port ${metricsPort} did not answer`);
  const { fds, pipes } = descriptors(pid);
  return {
    t,
    phase,
    fds,
    pipes,
    rssMiB: (rssKiB(pid) ?? 0) / 1024,
    connections: json.connections.open,
    flows: json.rules.reduce((sum, rule) => sum + (rule.udp?.active_flows ?? 0), 0),
    shardRestarts: json.shards.restarts,
    clientDone,
  };
}
