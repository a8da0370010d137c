// The edge's own memory: RSS and PSS of an idle sluice edge (started as users start it, two
// rules bound, no connection) at 1, 2 and 4 shards, beside the floor any Node edge sits on
// (bare Node with two idle worker threads) and HAProxy idle, all measured in the same run.
// Each subject is started fresh, left to settle, read once from /proc, and stopped.
//
// RSS is the headline (and the gated figure): it is what a host's memory accounting sees, and it
// does not move with whatever else runs. PSS is shown beside it, but it splits shared pages (the
// node binary) among every process mapping them, so other Node processes on the host lower it.

import { setTimeout as sleep } from 'node:timers/promises';
import type { Contender, StartOptions } from '../contender.ts';
import { sluiceEdge } from '../contenders/sluice-edge.ts';
import { BENCH_ERRORS, errorData, type RunError } from '../errors.ts';
import { spawnReady } from '../managed-process.ts';
import { freePorts } from '../ports.ts';
import { NODE_BIN } from '../repo-paths.ts';
import { treePssKiB } from '../rss.ts';
import { ratio, type Summary, summarize } from '../stats.ts';
import { cell, firstLine, fixed, table } from './markdown-table.ts';
import type { ScenarioContext } from './scenario.ts';
import { defineScenario, type PlanParts } from './scenario-definition.ts';

/** After start-up, before the reading: lazy start-up work and the first GCs are over by then. */
const SETTLE_MS = 1500;
/** The contender that brings sluice into this scenario (its shard count is the scenario's). */
export const SLUICE_CONTENDER = 'sluice-splice-1';
export const BARE_NODE = 'bare-node-2-workers';

/**
 * Plain JavaScript given to `node -e`: two worker threads that wait, and a line once both run.
 * Nothing of sluice's, not even its TypeScript, so the figure is Node's own.
 */
const BARE_NODE_SCRIPT = [
  "const { Worker } = require('node:worker_threads');",
  'let online = 0;',
  'for (let i = 0; i < 2; i++) {',
  "  const worker = new Worker('setInterval(() => {}, 1 << 30);', { eval: true });",
  "  worker.on('online', () => { if (++online === 2) console.log('ready'); });",
  '}',
  'setInterval(() => {}, 1 << 30);',
].join('\n');

export function edgeSubject(shards: number): string {
  return `sluice-${shards}-shard${shards === 1 ? '' : 's'}`;
}

/** One subject's reading in one run. */
export interface EdgeMemoryReading {
  readonly rssKiB: number;
  readonly pssKiB: number;
}

export interface EdgeMemoryRow {
  /** `sluice-2-shards`, `bare-node-2-workers`, `haproxy`. */
  readonly subject: string;
  readonly label: string;
  /** RSS over the repeats, KiB. */
  readonly rss: Summary | null;
  /** PSS over the repeats, KiB. */
  readonly pss: Summary | null;
  /** Median RSS as a multiple of bare Node's. */
  readonly vsBareNode: number | null;
  readonly runErrors: readonly RunError[];
}

export interface EdgeMemoryReport {
  readonly repeats: number;
  readonly settleMs: number;
  readonly rows: readonly EdgeMemoryRow[];
  /** RSS each shard adds: the RSS between the fewest and the most shards measured, per shard, KiB. */
  readonly perShardRssKiB: number | null;
  /** Every reading per subject, in run order (null for a failed run). */
  readonly runs: Readonly<Record<string, readonly (EdgeMemoryReading | null)[]>>;
}

interface Subject {
  readonly id: string;
  readonly label: string;
  /** Starts it, reads it after settling, stops it. */
  readonly read: () => Promise<EdgeMemoryReading>;
}

function readPid(pid: number | null, subject: string): EdgeMemoryReading {
  const memory = pid === null ? null : treePssKiB(pid);
  if (memory === null)
    throw BENCH_ERRORS.error('memory_unreadable', { subject, reason: 'its process is gone' });
  return { rssKiB: memory.rssKiB, pssKiB: memory.kib };
}

/** A contender started with two free ports (nothing connects), read idle, stopped. */
function idleContender(id: string, label: string, contender: Contender, options: StartOptions): Subject {
  return {
    id,
    label,
    read: async () => {
      const [listenPort, targetPort] = (await freePorts(2)) as [number, number];
      const running = await contender.start(listenPort, targetPort, options);
      try {
        await sleep(SETTLE_MS);
        return readPid(running.pid, id);
      } finally {
        await running.stop();
      }
    },
  };
}

const bareNode: Subject = {
  id: BARE_NODE,
  label: 'bare Node, 2 idle worker threads',
  read: async () => {
    const proc = await spawnReady({
      name: BARE_NODE,
      command: NODE_BIN,
      args: ['-e', BARE_NODE_SCRIPT],
      ready: (p) => p.waitForLine((line) => line === 'ready', 15_000, 'the "ready" line'),
      failure: (reason) => BENCH_ERRORS.error('contender_start_failed', { contender: BARE_NODE, reason }),
    });
    try {
      await sleep(SETTLE_MS);
      return readPid(proc.pid, BARE_NODE);
    } finally {
      await proc.stop('SIGTERM', 5000);
    }
  },
};

/** What this run measures: bare Node always, sluice and HAProxy when their contenders are in it. */
function subjects(contenders: readonly Contender[], shardCounts: readonly number[]): Subject[] {
  const list: Subject[] = [];
  if (contenders.some((c) => c.id === SLUICE_CONTENDER)) {
    for (const shards of shardCounts) {
      const label = `sluice idle, ${shards} shard${shards === 1 ? '' : 's'}`;
      const edge = sluiceEdge(edgeSubject(shards), 'splice', shards, label);
      // Two rules (TCP and UDP on the same ports), bound on every shard.
      list.push(idleContender(edgeSubject(shards), label, edge, { udp: true }));
    }
  }
  list.push(bareNode);
  const haproxy = contenders.find((c) => c.id === 'haproxy');
  if (haproxy !== undefined) list.push(idleContender('haproxy', 'HAProxy idle', haproxy, {}));
  return list;
}

export async function runEdgeMemory(
  ctx: ScenarioContext,
  shardCounts: readonly number[],
  repeats: number,
): Promise<EdgeMemoryReport> {
  const list = subjects(ctx.contenders, shardCounts);
  const runs = new Map<string, (EdgeMemoryReading | null)[]>(list.map((s) => [s.id, []]));
  const errors = new Map<string, RunError[]>(list.map((s) => [s.id, []]));
  const total = repeats * list.length;
  let index = 0;
  for (let repeat = 1; repeat <= repeats; repeat++) {
    for (const subject of list) {
      index++;
      const label = `${subject.id}${repeats > 1 ? ` · run ${repeat}/${repeats}` : ''}`;
      ctx.onStep?.({ scenario: 'edge-memory', index, total, label, seconds: SETTLE_MS / 1000 });
      try {
        const reading = await subject.read();
        runs.get(subject.id)!.push(reading);
        ctx.log(
          `edge-memory ${label}: RSS ${(reading.rssKiB / 1024).toFixed(1)} MiB, PSS ${(reading.pssKiB / 1024).toFixed(1)} MiB`,
        );
      } catch (err) {
        const error = errorData(err);
        runs.get(subject.id)!.push(null);
        errors.get(subject.id)!.push(error);
        ctx.log(`edge-memory ${subject.id}: FAILED ${error.code}: ${error.message}`);
      }
    }
  }
  return edgeMemoryReport(list, runs, errors, { shardCounts, repeats });
}

/** Medians per subject, each against bare Node's, and the cost of a shard beyond the first. */
export function edgeMemoryReport(
  list: readonly Pick<Subject, 'id' | 'label'>[],
  runs: ReadonlyMap<string, readonly (EdgeMemoryReading | null)[]>,
  errors: ReadonlyMap<string, readonly RunError[]>,
  plan: { readonly shardCounts: readonly number[]; readonly repeats: number },
): EdgeMemoryReport {
  const { shardCounts, repeats } = plan;
  const readings = (id: string) => (runs.get(id) ?? []).filter((r) => r !== null);
  const bareRss = summarize(readings(BARE_NODE).map((r) => r.rssKiB))?.median ?? null;
  const rows = list.map((s): EdgeMemoryRow => {
    const rss = summarize(readings(s.id).map((r) => r.rssKiB));
    return {
      subject: s.id,
      label: s.label,
      rss,
      pss: summarize(readings(s.id).map((r) => r.pssKiB)),
      vsBareNode: ratio(rss?.median ?? null, bareRss),
      runErrors: errors.get(s.id) ?? [],
    };
  });
  const median = (id: string) => rows.find((r) => r.subject === id)?.rss?.median ?? null;
  const fewest = Math.min(...shardCounts);
  const most = Math.max(...shardCounts);
  const first = median(edgeSubject(fewest));
  const last = median(edgeSubject(most));
  const perShardRssKiB =
    first === null || last === null || most === fewest ? null : (last - first) / (most - fewest);
  return {
    repeats,
    settleMs: SETTLE_MS,
    rows,
    perShardRssKiB,
    runs: Object.fromEntries([...runs].map(([id, list]) => [id, [...list]])),
  };
}

const mib = (summary: Summary | null): string => cell(summary, 1, 1024);

function edgeMemoryMarkdown(m: EdgeMemoryReport, notes: string[]): string[] {
  if (m.rows.length === 0) return [];
  for (const row of m.rows) {
    for (const e of row.runErrors)
      notes.push(`edge-memory, ${row.subject}: ${e.code}: ${firstLine(e.message)}`);
  }
  if (m.perShardRssKiB !== null) {
    notes.push(`edge-memory: each further shard adds ${(m.perShardRssKiB / 1024).toFixed(1)} MiB of RSS`);
  }
  const rows = m.rows.map((r) => [
    r.label,
    r.rss === null ? `failed (${r.runErrors[0]?.code ?? '?'})` : mib(r.rss),
    mib(r.pss),
    fixed(r.vsBareNode, 2),
  ]);
  return [
    `### The idle edge's own memory: MiB, no connection, median of ${m.repeats}`,
    '',
    ...table(['process', 'RSS', 'PSS', '× bare Node (RSS)'], rows),
  ];
}

export interface EdgeMemoryPlan {
  /** The shard counts sluice is measured at (the subjects beside it follow from the contenders). */
  readonly edgeShards: readonly number[];
}

const EDGE_MEMORY_PLAN: PlanParts<EdgeMemoryPlan> = {
  full: { edgeShards: [1, 2, 4] },
  quick: { edgeShards: [1, 2, 4] },
};

export const edgeMemoryScenario = defineScenario({
  id: 'edge-memory',
  reportKey: 'edgeMemory',
  plan: EDGE_MEMORY_PLAN,
  usesIperf3: false,
  appliesTo: (contender) => contender.id === SLUICE_CONTENDER || contender.id === 'haproxy',
  // sluice counts for its three shard counts; bare Node is measured beside whatever runs.
  pointsPerRepeat: (plan) => plan.edgeShards.length + 1,
  secondsPerRun: () => SETTLE_MS / 1000 + 1,
  run: (ctx, plan) => runEdgeMemory(ctx, plan.edgeShards, plan.repeats),
  markdown: edgeMemoryMarkdown,
  charts: () => [],
  failed: (m) => m.rows.some((r) => r.runErrors.length > 0),
});
