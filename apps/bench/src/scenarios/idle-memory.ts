// RSS per idle connection: C connections opened through the contender by a client process to a
// holder process (the target), both apart from the measured process and from the bench. The
// contender's RSS (with its descendants) is read before, and again once all C are established
// end to end (the client has C open and the holder holds C); the difference over C is the cost
// of one idle relayed connection.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Contender, RunningContender } from '../contender.ts';
import { BenchError, errorData, type RunError } from '../errors.ts';
import { IpcPeer } from '../ipc-peer.ts';
import { freePorts } from '../ports.ts';
import { NODE_BIN } from '../repo-paths.ts';
import { treeRssKiB } from '../rss.ts';
import { ratio } from '../stats.ts';
import { type ScenarioContext, withContender } from './scenario.ts';

const HOLDER_SCRIPT = join(import.meta.dirname, '..', 'processes', 'idle-holder.ts');
const CLIENT_SCRIPT = join(import.meta.dirname, '..', 'processes', 'idle-client.ts');

/** Connects in flight at once: well under any listen backlog, so no SYN is dropped. */
const CONNECT_CONCURRENCY = 128;
/** Opened and closed before the first reading, so lazy start-up costs fall before it. */
const WARMUP_CONNECTIONS = 100;
const ESTABLISH_TIMEOUT_MS = 60_000;
/** After the connections are up: readings this far apart; the last one counts. */
const AFTER_SAMPLES = 3;
const SAMPLE_INTERVAL_MS = 1000;
const SETTLE_BEFORE_MS = 1000;

export interface IdleMemoryOptions {
  readonly connections: number;
}

export interface IdleMemoryRow {
  readonly contender: string;
  readonly label: string;
  /** The processes measured (the contender and its descendants). */
  readonly pids: readonly number[];
  readonly rssBeforeKiB: number | null;
  readonly rssAfterKiB: number | null;
  /** RSS readings after the connections were up, one per second; the last is rssAfterKiB. */
  readonly rssAfterSamplesKiB: readonly number[];
  readonly perConnectionKiB: number | null;
  readonly vsHaproxy: number | null;
  readonly error: RunError | null;
}

export interface IdleMemoryReport {
  readonly connections: number;
  readonly rows: readonly IdleMemoryRow[];
  /** Contenders with nothing to measure (no relay process), and why. */
  readonly notMeasured: readonly { readonly contender: string; readonly reason: string }[];
}

/** The KiB each connection added: (after - before) / connections. */
export function perConnectionKiB(beforeKiB: number, afterKiB: number, connections: number): number {
  if (connections <= 0) throw new RangeError('connections must be positive');
  return (afterKiB - beforeKiB) / connections;
}

/** The soft RLIMIT_NOFILE of this process (children inherit it), or null if unreadable. */
export function openFileLimit(): number | null {
  try {
    const match = /^Max open files\s+(\d+|unlimited)\s/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (match?.[1] === undefined) return null;
    return match[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(match[1]);
  } catch {
    return null;
  }
}

async function waitForCounts(
  holder: IpcPeer,
  client: IpcPeer,
  want: number,
  contender: string,
): Promise<void> {
  const deadline = Date.now() + ESTABLISH_TIMEOUT_MS;
  let held = -1;
  let open = -1;
  while (Date.now() < deadline) {
    held = (await holder.next('count', 5000, { type: 'count' })).open;
    open = (await client.next('count', 5000, { type: 'count' })).open;
    if (held === want && open === want) return;
    await sleep(100);
  }
  throw new BenchError('idle_connections_failed', {
    contender,
    reason: `wanted ${want} established end to end; the client has ${open} open, the target holds ${held}`,
  });
}

async function openThrough(client: IpcPeer, port: number, count: number, contender: string): Promise<void> {
  const opened = await client.next('opened', ESTABLISH_TIMEOUT_MS, {
    type: 'open',
    port,
    count,
    concurrency: CONNECT_CONCURRENCY,
  });
  if (opened.failed > 0) {
    throw new BenchError('idle_connections_failed', {
      contender,
      reason: `${opened.failed} of ${count} connects failed (first: ${opened.firstError})`,
    });
  }
}

function readRss(running: RunningContender, contender: string): { kib: number; pids: readonly number[] } {
  const rss = running.pid === null ? null : treeRssKiB(running.pid);
  if (rss === null)
    throw new BenchError('idle_connections_failed', { contender, reason: 'the relay process is gone' });
  return rss;
}

/** One contender's readings, before the ratio to HAProxy is known. */
export type IdleMeasurement = Omit<IdleMemoryRow, 'vsHaproxy' | 'label' | 'contender' | 'error'>;

async function measure(
  ctx: ScenarioContext,
  contender: Contender,
  connections: number,
): Promise<IdleMeasurement> {
  const [listenPort, targetPort] = (await freePorts(2)) as [number, number];
  const holder = new IpcPeer('idle holder', NODE_BIN, HOLDER_SCRIPT, [String(targetPort)]);
  const client = new IpcPeer('idle client', NODE_BIN, CLIENT_SCRIPT, []);
  try {
    await holder.next('listening', 10_000);
    return await withContender(contender, listenPort, targetPort, async (running) => {
      const port = running.connectPort;
      await openThrough(client, port, WARMUP_CONNECTIONS, contender.id);
      await waitForCounts(holder, client, WARMUP_CONNECTIONS, contender.id);
      await client.next('closed', 10_000, { type: 'close' });
      await waitForCounts(holder, client, 0, contender.id);
      await sleep(SETTLE_BEFORE_MS);
      const before = readRss(running, contender.id);
      ctx.log(
        `idle-memory ${contender.id}: RSS before ${before.kib} KiB; opening ${connections} connections`,
      );

      await openThrough(client, port, connections, contender.id);
      await waitForCounts(holder, client, connections, contender.id);
      const samples: number[] = [];
      let after = before;
      for (let i = 0; i < AFTER_SAMPLES; i++) {
        await sleep(SAMPLE_INTERVAL_MS);
        after = readRss(running, contender.id);
        samples.push(after.kib);
      }
      // Still all there after the readings: none was dropped while we measured.
      await waitForCounts(holder, client, connections, contender.id);
      await client.next('closed', 10_000, { type: 'close' });
      return {
        pids: after.pids,
        rssBeforeKiB: before.kib,
        rssAfterKiB: after.kib,
        rssAfterSamplesKiB: samples,
        perConnectionKiB: perConnectionKiB(before.kib, after.kib, connections),
      };
    });
  } finally {
    await Promise.all([client.stop(), holder.stop()]);
  }
}

export async function runIdleMemory(
  ctx: ScenarioContext,
  options: IdleMemoryOptions,
): Promise<IdleMemoryReport> {
  const limit = openFileLimit();
  if (limit !== null && limit < 2 * options.connections + 200) {
    throw new BenchError('bad_flag', {
      flag: '--connections',
      reason: `${options.connections} needs about ${2 * options.connections + 200} open files per relay; ulimit -n is ${limit}`,
    });
  }
  const measured = new Map<string, IdleMeasurement | RunError>();
  const notMeasured: { contender: string; reason: string }[] = [];
  for (const contender of ctx.contenders) {
    if (contender.relay !== 'user-space') {
      const reason =
        contender.relay === 'kernel' ? 'relayed by the kernel: no process to measure' : 'no relay';
      notMeasured.push({ contender: contender.id, reason });
      continue;
    }
    if (contender.idleMemoryNote) {
      notMeasured.push({ contender: contender.id, reason: contender.idleMemoryNote });
      continue;
    }
    ctx.log(`idle-memory ${contender.id}: ${options.connections} idle connections`);
    try {
      const result = await measure(ctx, contender, options.connections);
      measured.set(contender.id, result);
      ctx.log(`idle-memory ${contender.id}: ${result.perConnectionKiB?.toFixed(2)} KiB per connection`);
    } catch (err) {
      const error = errorData(err);
      measured.set(contender.id, error);
      ctx.log(`idle-memory ${contender.id}: FAILED ${error.code}: ${error.message}`);
    }
  }
  return {
    connections: options.connections,
    rows: idleMemoryRows(ctx.contenders, measured),
    notMeasured,
  };
}

function isRunError(value: IdleMeasurement | RunError): value is RunError {
  return 'code' in value;
}

/** Rows in contender order, with the per-connection cost as a ratio to HAProxy's. */
export function idleMemoryRows(
  contenders: readonly Pick<Contender, 'id' | 'label'>[],
  measured: ReadonlyMap<string, IdleMeasurement | RunError>,
): IdleMemoryRow[] {
  const haproxy = measured.get('haproxy');
  const haproxyPerConnection = haproxy === undefined || isRunError(haproxy) ? null : haproxy.perConnectionKiB;
  const rows: IdleMemoryRow[] = [];
  for (const c of contenders) {
    const m = measured.get(c.id);
    if (m === undefined) continue;
    if (isRunError(m)) {
      rows.push({
        contender: c.id,
        label: c.label,
        pids: [],
        rssBeforeKiB: null,
        rssAfterKiB: null,
        rssAfterSamplesKiB: [],
        perConnectionKiB: null,
        vsHaproxy: null,
        error: m,
      });
    } else {
      rows.push({
        contender: c.id,
        label: c.label,
        ...m,
        vsHaproxy: ratio(m.perConnectionKiB, haproxyPerConnection),
        error: null,
      });
    }
  }
  return rows;
}
