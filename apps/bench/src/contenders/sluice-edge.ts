// sluice's standalone edge on the splice path or the JS relay path (SLUICE_NO_SPLICE=1), with
// 1 shard or one per core: `<repo>/.tools/bin/node`, the root script `edge`'s flags and bin, then
// `--config <generated toml>` (as `./run edge` starts it). Ready when
// the JSON log line "edge ready" says no rule failed.

import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { BandwidthCap, Contender, RunningContender, StartOptions } from '../contender.ts';
import { relayMaxConnections } from '../fd-budget.ts';
import { parseLogLine } from '../log-line.ts';
import type { ManagedProcess } from '../managed-process.ts';
import { EDGE, NODE_BIN, REPO_ROOT } from '../repo-paths.ts';
import { makeTempDir } from '../temp-dir.ts';
import { spawnContender } from './spawn-contender.ts';

const READY_TIMEOUT_MS = 30_000;
/** The edge drains for this long on SIGTERM; the bench has closed its connections by then. */
const DRAIN_SECS = 1;

/** The owner a capped rule gets when the cap is the owner's (`[owners.bench]`). */
export const BENCH_OWNER = 'bench';

const BIT_UNITS = [
  [1e9, 'Gbit'],
  [1e6, 'Mbit'],
  [1e3, 'Kbit'],
] as const;

/** 1e9 -> `1Gbit`, 1e8 -> `100Mbit`: bits per second as sluice's `bandwidth` takes them. */
export function bandwidthText(bitsPerSecond: number): string {
  for (const [scale, unit] of BIT_UNITS) {
    if (bitsPerSecond >= scale && bitsPerSecond % scale === 0) return `${bitsPerSecond / scale}${unit}`;
  }
  return `${bitsPerSecond}bit`;
}

export interface EdgeRuleOptions {
  /** A bandwidth cap on the TCP rule or on its owner (the default burst, one second of rate). */
  readonly cap?: BandwidthCap;
  /** A `protocol = "udp"` rule on the same ports beside the TCP one (iperf3 -u keeps its control on TCP). */
  readonly udp?: boolean;
}

/** The standalone TOML for a TCP rule 127.0.0.1:listen -> 127.0.0.1:target, and a UDP one when asked. */
export function edgeConfigToml(
  shards: number,
  listenPort: number,
  targetPort: number,
  options: EdgeRuleOptions = {},
): string {
  const { cap, udp = false } = options;
  const lines = [
    'name = "sluice-bench"',
    `shards = ${shards}`,
    `drain_timeout_secs = ${DRAIN_SECS}`,
    // HAProxy's maxconn, so both hold as many as idle-memory opens.
    `max_connections = ${relayMaxConnections()}`,
    '',
    '[[rules]]',
    'name = "bench"',
    `listen = "127.0.0.1:${listenPort}"`,
    `targets = ["127.0.0.1:${targetPort}"]`,
  ];
  if (cap !== undefined) {
    const limits = `limits = { bandwidth = "${bandwidthText(cap.bitsPerSecond)}" }`;
    if (cap.scope === 'rule') lines.push(limits);
    else lines.push(`owner = "${BENCH_OWNER}"`, '', `[owners.${BENCH_OWNER}]`, limits);
  }
  if (udp) {
    // After the owners table, a rule must open its own [[rules]] entry again.
    lines.push(
      '',
      '[[rules]]',
      'name = "bench-udp"',
      'protocol = "udp"',
      `listen = "127.0.0.1:${listenPort}"`,
      `targets = ["127.0.0.1:${targetPort}"]`,
    );
  }
  return [...lines, ''].join('\n');
}

export type RelayPath = 'js' | 'splice';

export function edgeEnv(path: RelayPath): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...EDGE.env, SLUICE_LOG_FORMAT: 'json' };
  delete env.SLUICE_TEST_HOOKS;
  delete env.SLUICE_NO_SPLICE;
  delete env.SLUICE_NO_NATIVE_ACCEPT;
  if (path === 'js') env.SLUICE_NO_SPLICE = '1';
  return env;
}

/** The standalone edge as a contender; the edge-memory scenario makes its own at other shard counts. */
export function sluiceEdge(id: string, path: RelayPath, shards: number, label: string): Contender {
  return {
    id,
    label,
    relay: 'user-space',
    description: `sluice-edge standalone, ${path === 'js' ? 'JS relay path (SLUICE_NO_SPLICE=1)' : 'native accept and splice(2) path'}, shards = ${shards}`,
    capsBandwidth: true,
    unavailableReason: async () => null,

    async start(
      listenPort: number,
      targetPort: number,
      options: StartOptions = {},
    ): Promise<RunningContender> {
      const dir = makeTempDir(id);
      const configFile = join(dir.path, 'edge.toml');
      writeFileSync(
        configFile,
        edgeConfigToml(shards, listenPort, targetPort, {
          ...(options.bandwidthCap === undefined ? {} : { cap: options.bandwidthCap }),
          udp: options.udp ?? false,
        }),
      );
      return spawnContender({
        contender: id,
        name: id,
        command: NODE_BIN,
        args: [...EDGE.args, '--config', configFile],
        cwd: REPO_ROOT,
        env: edgeEnv(path),
        ready: (proc) => edgeReady(proc, path),
        connectPort: listenPort,
        graceMs: (DRAIN_SECS + 5) * 1000,
        dir,
      });
    },
  };
}

/** Resolves once the edge logs "edge ready" with no failed rule, on the relay path asked for. */
export async function edgeReady(proc: ManagedProcess, path: RelayPath): Promise<void> {
  const line = await proc.waitForLine(
    (text) => parseLogLine(text)?.msg === 'edge ready',
    READY_TIMEOUT_MS,
    '"edge ready"',
  );
  const ready = parseLogLine(line);
  if (ready?.failed !== 0) throw new Error(`"edge ready" reports failed = ${String(ready?.failed)} rule(s)`);
  // The splice contenders run the edge as shipped: the addon accepts, connects and splices.
  const wanted = path === 'js' ? 'js' : 'native';
  if (ready.relay !== wanted) {
    throw new Error(
      `"edge ready" reports relay = ${String(ready.relay)} (${String(ready.splice)}), wanted ${wanted}`,
    );
  }
}

const CORES = availableParallelism();
export const sluiceSplice1 = sluiceEdge('sluice-splice-1', 'splice', 1, 'sluice splice, 1 shard');
export const sluiceSpliceN = sluiceEdge('sluice-splice-N', 'splice', CORES, `sluice splice, ${CORES} shards`);
export const sluiceJs1 = sluiceEdge('sluice-js-1', 'js', 1, 'sluice JS, 1 shard');
export const sluiceJsN = sluiceEdge('sluice-js-N', 'js', CORES, `sluice JS, ${CORES} shards`);
