// Memory per idle connection: connections opened through the contender by a client process to
// a holder process (the target), both apart from the measured process and from the bench. One
// relay process per run is measured at each count in ascending order (1k, then 4k, then 10k):
// its memory (PSS of the process and its descendants) is read before any connection and again
// once each count is established end to end (the client has them open and the holder holds
// them); the growth over the count is the cost of one idle relayed connection.
//
// PSS, not RSS: shared pages are split among the processes that map them, so a relay that forks
// a process per connection (socat) is charged its own pages, not its shared libraries once per
// child. For one-process relays the two grow alike; RSS is kept in the report beside it.
//
// A relay holds two descriptors per connection, and RLIMIT_NOFILE bounds them: a count that does
// not fit is measured at the most that fits, and the report says so (`capped`).

import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Chart, spread } from '../charts/chart-specs.ts';
import { type MemoryPoint, memoryChart } from '../charts/memory-chart.ts';
import type { Contender, RunningContender } from '../contender.ts';
import { BENCH_ERRORS, errorData, type RunError } from '../errors.ts';
import { type OpenFileLimit, openFileLimit, relayedConnectionCap } from '../fd-budget.ts';
import { IpcPeer } from '../ipc-peer.ts';
import { freePorts } from '../ports.ts';
import { type IdleReply, type IdleRequest, isIdleReply } from '../processes/idle-messages.ts';
import { NODE_BIN } from '../repo-paths.ts';
import { type TreePss, treePssKiB } from '../rss.ts';
import { ratio, type Summary, summarize } from '../stats.ts';
import { cell, DASH, firstLine, fixed, table } from './markdown-table.ts';
import type { NotApplicable } from './matrix.ts';
import { type ScenarioContext, withContender } from './scenario.ts';
import { defineScenario, type PlanParts } from './scenario-definition.ts';

type IdlePeer = IpcPeer<IdleRequest, IdleReply>;

const HOLDER_SCRIPT = join(import.meta.dirname, '..', 'processes', 'idle-holder.ts');
const CLIENT_SCRIPT = join(import.meta.dirname, '..', 'processes', 'idle-client.ts');

/** Connects in flight at once: well under any listen backlog, so no SYN is dropped. */
const CONNECT_CONCURRENCY = 128;
/** Opened and closed before the first reading, so lazy start-up costs fall before it. */
const WARMUP_CONNECTIONS = 100;
const ESTABLISH_TIMEOUT_MS = 60_000;
/** After each count is up: readings this far apart; the last one counts. */
const AFTER_SAMPLES = 2;
const SAMPLE_INTERVAL_MS = 1000;
const SETTLE_BEFORE_MS = 1000;
/** The count the headline rows (and the gates) use when it was measured. */
export const HEADLINE_CONNECTIONS = 4000;

export interface IdleMemoryOptions {
  /** Counts to measure, in any order; measured ascending, capped to what the fd limit allows. */
  readonly connections: readonly number[];
  readonly repeats: number;
}

/** One count as planned and as measured. */
export interface IdleCount {
  /** What the plan asked for. */
  readonly requested: number;
  /** What was opened: `requested`, or the cap when it did not fit. */
  readonly connections: number;
  /** Why fewer than requested were opened; null when none were cut. */
  readonly capped: string | null;
}

/** One run's reading at one count. */
export interface IdleReading {
  readonly connections: number;
  readonly pssKiB: number;
  readonly rssKiB: number;
  /** PSS readings after the count was up, a second apart; the last is pssKiB. */
  readonly samplesKiB: readonly number[];
  /** (pssKiB - before) / connections. */
  readonly perConnectionKiB: number;
  readonly perConnectionRssKiB: number;
}

export interface IdleRun {
  readonly repeat: number;
  /** The processes measured (the contender and its descendants) at the last count. */
  readonly pids: readonly number[];
  readonly pssBeforeKiB: number | null;
  readonly rssBeforeKiB: number | null;
  readonly readings: readonly IdleReading[];
  readonly error: RunError | null;
}

export interface IdleMemoryRow {
  readonly contender: string;
  readonly label: string;
  readonly connections: number;
  /** The processes measured (the contender and its descendants). */
  readonly pids: readonly number[];
  /** The median run's readings (PSS): before any connection and with `connections` open. */
  readonly pssBeforeKiB: number | null;
  readonly pssAfterKiB: number | null;
  /** The same run's RSS readings, for comparison. */
  readonly rssBeforeKiB: number | null;
  readonly rssAfterKiB: number | null;
  readonly rssAfterSamplesKiB: readonly number[];
  /** KiB (PSS) per connection: the median over the repeats. */
  readonly perConnectionKiB: number | null;
  /** Over the repeats. */
  readonly summary: Summary | null;
  readonly vsHaproxy: number | null;
  /** The first failure among the runs, if every run failed; see `runErrors` for all. */
  readonly error: RunError | null;
  readonly runErrors: readonly RunError[];
}

export interface IdleMemoryReport {
  /** The headline count: 4000 when measured, else the largest measured. `rows` are at it. */
  readonly connections: number;
  readonly rows: readonly IdleMemoryRow[];
  /** Every count with its rows (`byCount[i].rows` are at `byCount[i].count.connections`). */
  readonly byCount: readonly { readonly count: IdleCount; readonly rows: readonly IdleMemoryRow[] }[];
  readonly repeats: number;
  /** The descriptor limit the relays inherit, and the most connections that fit under it. */
  readonly fileLimit: OpenFileLimit | null;
  readonly cap: number | null;
  /** Contenders with nothing to measure (no relay process, or not built to hold thousands). */
  readonly notMeasured: readonly { readonly contender: string; readonly reason: string }[];
  /** Every raw run, per contender. */
  readonly runs: Readonly<Record<string, readonly IdleRun[]>>;
}

/** The KiB each connection added: (after - before) / connections. */
export function perConnectionKiB(beforeKiB: number, afterKiB: number, connections: number): number {
  if (connections <= 0) throw new RangeError('connections must be positive');
  return (afterKiB - beforeKiB) / connections;
}

/** The counts to open, ascending and deduplicated, each cut to `cap` with the reason. */
export function idleCounts(
  requested: readonly number[],
  cap: number,
  limit: OpenFileLimit | null,
): IdleCount[] {
  const counts: IdleCount[] = [];
  for (const want of [...new Set(requested)].sort((a, b) => a - b)) {
    const connections = Math.min(want, cap);
    const capped =
      connections < want
        ? `${want} does not fit: the relays inherit ulimit -n ${limit?.soft ?? '?'} (hard ${limit?.hard ?? '?'}, not raisable here) and hold 2 descriptors per connection, so ${cap} were opened`
        : null;
    if (connections > 0) counts.push({ requested: want, connections, capped });
  }
  return counts;
}

async function waitForCounts(
  holder: IdlePeer,
  client: IdlePeer,
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
  throw BENCH_ERRORS.error('idle_connections_failed', {
    contender,
    reason: `wanted ${want} established end to end; the client has ${open} open, the target holds ${held}`,
  });
}

async function openThrough(client: IdlePeer, port: number, count: number, contender: string): Promise<void> {
  const opened = await client.next('opened', ESTABLISH_TIMEOUT_MS, {
    type: 'open',
    port,
    count,
    concurrency: CONNECT_CONCURRENCY,
  });
  if (opened.failed > 0) {
    throw BENCH_ERRORS.error('idle_connections_failed', {
      contender,
      reason: `${opened.failed} of ${count} connects failed (first: ${opened.firstError})`,
    });
  }
}

function readMemory(running: RunningContender, contender: string): TreePss {
  const memory = running.pid === null ? null : treePssKiB(running.pid);
  if (memory === null)
    throw BENCH_ERRORS.error('idle_connections_failed', { contender, reason: 'the relay process is gone' });
  return memory;
}

async function measure(
  ctx: ScenarioContext,
  contender: Contender,
  counts: readonly IdleCount[],
  repeat: number,
): Promise<IdleRun> {
  const [listenPort, targetPort] = (await freePorts(2)) as [number, number];
  const holder = new IpcPeer('idle holder', NODE_BIN, HOLDER_SCRIPT, [String(targetPort)], isIdleReply);
  const client = new IpcPeer('idle client', NODE_BIN, CLIENT_SCRIPT, [], isIdleReply);
  try {
    await holder.next('listening', 10_000);
    return await withContender(contender, listenPort, targetPort, async (running) => {
      const port = running.connectPort;
      await openThrough(client, port, WARMUP_CONNECTIONS, contender.id);
      await waitForCounts(holder, client, WARMUP_CONNECTIONS, contender.id);
      await client.next('closed', 10_000, { type: 'close' });
      await waitForCounts(holder, client, 0, contender.id);
      await sleep(SETTLE_BEFORE_MS);
      const before = readMemory(running, contender.id);
      const readings: IdleReading[] = [];
      let open = 0;
      let pids = before.pids;
      for (const count of counts) {
        await openThrough(client, port, count.connections - open, contender.id);
        open = count.connections;
        await waitForCounts(holder, client, open, contender.id);
        const samples: number[] = [];
        let after = before;
        for (let i = 0; i < AFTER_SAMPLES; i++) {
          await sleep(SAMPLE_INTERVAL_MS);
          after = readMemory(running, contender.id);
          samples.push(after.kib);
        }
        // Still all there after the readings: none was dropped while we measured.
        await waitForCounts(holder, client, open, contender.id);
        pids = after.pids;
        const reading: IdleReading = {
          connections: open,
          pssKiB: after.kib,
          rssKiB: after.rssKiB,
          samplesKiB: samples,
          perConnectionKiB: perConnectionKiB(before.kib, after.kib, open),
          perConnectionRssKiB: perConnectionKiB(before.rssKiB, after.rssKiB, open),
        };
        readings.push(reading);
        ctx.log(
          `idle-memory ${contender.id}: ${open} connections, ${reading.perConnectionKiB.toFixed(2)} KiB each`,
        );
      }
      await client.next('closed', 30_000, { type: 'close' });
      return { repeat, pids, pssBeforeKiB: before.kib, rssBeforeKiB: before.rssKiB, readings, error: null };
    });
  } finally {
    await Promise.all([client.stop(), holder.stop()]);
  }
}

export function idleNotMeasured(contender: Contender): string | null {
  if (contender.relay === 'kernel') return 'relayed by the kernel: no process to measure';
  if (contender.relay === 'none') return 'no relay';
  return contender.idleMemoryNote ?? null;
}

export async function runIdleMemory(
  ctx: ScenarioContext,
  options: IdleMemoryOptions,
): Promise<IdleMemoryReport> {
  const limit = openFileLimit();
  const cap = limit === null ? null : relayedConnectionCap(limit.soft);
  const counts = idleCounts(options.connections, cap ?? Number.MAX_SAFE_INTEGER, limit);
  for (const c of counts) if (c.capped !== null) ctx.log(`idle-memory: capped: ${c.capped}`);
  const notMeasured: NotApplicable[] = [];
  const measured: Contender[] = [];
  for (const c of ctx.contenders) {
    const reason = idleNotMeasured(c);
    if (reason === null) measured.push(c);
    else notMeasured.push({ contender: c.id, label: c.label, reason });
  }
  const runs = new Map<string, IdleRun[]>(measured.map((c) => [c.id, []]));
  const total = options.repeats * measured.length;
  let index = 0;
  for (let repeat = 1; repeat <= options.repeats; repeat++) {
    for (const contender of measured) {
      index++;
      const label = `${contender.id}${options.repeats > 1 ? ` · run ${repeat}/${options.repeats}` : ''}`;
      ctx.onStep?.({ scenario: 'idle-memory', index, total, label, seconds: 2 + counts.length * 3 });
      ctx.log(`idle-memory ${label}: ${counts.map((c) => c.connections).join(', ')} idle connections`);
      let run: IdleRun;
      try {
        run = await measure(ctx, contender, counts, repeat);
      } catch (err) {
        const error = errorData(err);
        run = { repeat, pids: [], pssBeforeKiB: null, rssBeforeKiB: null, readings: [], error };
        ctx.log(`idle-memory ${contender.id}: FAILED ${error.code}: ${error.message}`);
      }
      runs.get(contender.id)!.push(run);
    }
  }
  const byCount = counts.map((count) => ({ count, rows: idleMemoryRows(measured, runs, count.connections) }));
  const headline =
    byCount.find((b) => b.count.connections === HEADLINE_CONNECTIONS) ??
    byCount.find((b) => b.count.requested === HEADLINE_CONNECTIONS) ??
    byCount.at(-1);
  return {
    connections: headline?.count.connections ?? 0,
    rows: headline?.rows ?? [],
    byCount,
    repeats: options.repeats,
    fileLimit: limit,
    cap,
    notMeasured: notMeasured.map(({ contender, reason }) => ({ contender, reason })),
    runs: Object.fromEntries(runs),
  };
}

/** Rows at one count in contender order, the per-connection cost as a ratio to HAProxy's. */
export function idleMemoryRows(
  contenders: readonly Pick<Contender, 'id' | 'label'>[],
  runs: ReadonlyMap<string, readonly IdleRun[]>,
  connections: number,
): IdleMemoryRow[] {
  const rows = contenders.flatMap((c): IdleMemoryRow[] => {
    const list = runs.get(c.id);
    if (list === undefined) return [];
    const at = list.flatMap((run) => {
      const reading = run.readings.find((r) => r.connections === connections);
      return reading === undefined ? [] : [{ run, reading }];
    });
    const errors = list.flatMap((run) => (run.error === null ? [] : [run.error]));
    const summary = summarize(at.map((a) => a.reading.perConnectionKiB));
    const mid = summary === null ? undefined : closestTo(at, summary.median);
    return [
      {
        contender: c.id,
        label: c.label,
        connections,
        pids: mid?.run.pids ?? [],
        pssBeforeKiB: mid?.run.pssBeforeKiB ?? null,
        pssAfterKiB: mid?.reading.pssKiB ?? null,
        rssBeforeKiB: mid?.run.rssBeforeKiB ?? null,
        rssAfterKiB: mid?.reading.rssKiB ?? null,
        rssAfterSamplesKiB: mid?.reading.samplesKiB ?? [],
        perConnectionKiB: summary?.median ?? null,
        summary,
        vsHaproxy: null,
        error:
          summary === null ? (errors[0] ?? { code: 'internal', message: 'no reading at this count' }) : null,
        runErrors: errors,
      },
    ];
  });
  const haproxy = rows.find((r) => r.contender === 'haproxy')?.perConnectionKiB ?? null;
  return rows.map((r) => ({ ...r, vsHaproxy: ratio(r.perConnectionKiB, haproxy) }));
}

function closestTo<T extends { reading: IdleReading }>(list: readonly T[], value: number): T | undefined {
  let best: T | undefined;
  for (const item of list) {
    if (
      best === undefined ||
      Math.abs(item.reading.perConnectionKiB - value) < Math.abs(best.reading.perConnectionKiB - value)
    ) {
      best = item;
    }
  }
  return best;
}

function idleMemoryMarkdown(m: IdleMemoryReport, notes: string[]): string[] {
  const counts = m.byCount.map((b) => b.count);
  const header = [
    'contender',
    ...counts.map((c) => (c.capped === null ? `${c.connections}` : `${c.connections} (of ${c.requested})`)),
    `× HAProxy (${m.connections})`,
  ];
  const ids = m.byCount[0]?.rows.map((r) => ({ id: r.contender, label: r.label })) ?? [];
  const rows = ids.map((c) => {
    const cells = m.byCount.map((b) => {
      const row = b.rows.find((r) => r.contender === c.id);
      if (row === undefined) return DASH;
      return row.summary === null ? `failed (${row.error?.code ?? '?'})` : cell(row.summary, 2);
    });
    return [c.label, ...cells, fixed(m.rows.find((r) => r.contender === c.id)?.vsHaproxy, 2)];
  });
  for (const count of counts) if (count.capped !== null) notes.push(`idle-memory: capped: ${count.capped}`);
  for (const b of m.byCount) {
    for (const row of b.rows) {
      for (const e of row.runErrors) {
        if (b === m.byCount[0])
          notes.push(`idle-memory, ${row.contender}: ${e.code}: ${firstLine(e.message)}`);
      }
    }
  }
  for (const n of m.notMeasured) notes.push(`idle-memory, ${n.contender}: not measured (${n.reason})`);
  return [
    `### Idle connections: KiB per connection (PSS of the relay and its children), opened end to end, median of ${m.repeats}`,
    '',
    ...table(header, rows),
  ];
}

/** KiB per idle connection against the count held. */
function idleMemoryCharts(m: IdleMemoryReport, where: string): Chart[] {
  const points: MemoryPoint[] = m.byCount.flatMap(({ count, rows }) =>
    rows.flatMap((row) => {
      if (row.perConnectionKiB === null) return [];
      const s = row.summary === null ? { low: null, high: null } : spread(row.summary);
      return [
        {
          contender: row.contender,
          label: row.label,
          connections: count.connections,
          perConnectionKiB: row.perConnectionKiB,
          lowKiB: s.low,
          highKiB: s.high,
        },
      ];
    }),
  );
  if (points.length === 0) return [];
  const how = `PSS of the relay and its children: growth over the idle connections held end to end, median of ${m.repeats}`;
  return [memoryChart(points, [how, where])];
}

export interface IdleMemoryPlan {
  /** Connection counts, measured in ascending order in one relay process. */
  readonly idleConnections: readonly number[];
}

const IDLE_MEMORY_PLAN: PlanParts<IdleMemoryPlan> = {
  full: { idleConnections: [1000, 4000, 10_000] },
  quick: { idleConnections: [1000, 4000] },
};

export const idleMemoryScenario = defineScenario({
  id: 'idle-memory',
  reportKey: 'idleMemory',
  plan: IDLE_MEMORY_PLAN,
  usesIperf3: false,
  appliesTo: (contender) => idleNotMeasured(contender) === null,
  // One relay process per run, every count measured in it.
  pointsPerRepeat: () => 1,
  // Per count: open, then two readings a second apart; plus warm-up and settling.
  secondsPerRun: (plan) => 2 + plan.idleConnections.length * 3,
  run: (ctx, plan) => runIdleMemory(ctx, { connections: plan.idleConnections, repeats: plan.repeats }),
  markdown: idleMemoryMarkdown,
  charts: idleMemoryCharts,
  failed: (m) => m.byCount.some((b) => b.rows.some((r) => r.runErrors.length > 0)),
});
