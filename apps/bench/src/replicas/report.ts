// The replicas bench's report: one JSON object (this shape) and the same as Markdown, written
// side by side as benchmarks/out/replicas/<timestamp>.{json,md}.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LatencySummary } from '../control-plane/latency.ts';
import type { MachineInfo } from '../machine-info.ts';
import { fileTimestamp } from '../report.ts';
import { ratio, type Summary } from '../stats.ts';
import type { LoadReport } from './load.ts';
import type { ConnectionCount, ConnectionSample } from './pg-connections.ts';
import type { ReplicasPlan } from './plan.ts';
import type { FailoverReport, PushLatencyReport } from './real-edges.ts';
import type { ReplayAfterFailoverReport } from './replay.ts';

export const REPLICAS_REPORT_VERSION = 1;

export interface ReplicasReport {
  readonly kind: 'replicas';
  readonly formatVersion: typeof REPLICAS_REPORT_VERSION;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly machine: MachineInfo;
  readonly postgres: string | null;
  readonly loadAverage: { readonly start: readonly number[]; readonly end: readonly number[] };
  readonly plan: ReplicasPlan;
  /** (1) */
  readonly pushLatency: PushLatencyReport | null;
  /** (2) */
  readonly failover: FailoverReport | null;
  /** (3) */
  readonly replay: ReplayAfterFailoverReport | null;
  /** (4) and (5): a single SQLite server, one replica, two replicas. */
  readonly load: readonly LoadReport[];
  readonly errors: readonly { readonly part: string; readonly message: string }[];
}

const DASH = '–';

function ms(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return DASH;
  return value >= 100 ? `${Math.round(value)}` : value.toFixed(value >= 10 ? 1 : 2);
}

const times = (value: number | null): string => (value === null ? DASH : `${value.toFixed(2)}×`);
const mib = (kib: number): string => (kib / 1024).toFixed(1);

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map((_, i) => (i === 0 ? '---' : '--:'))), ...rows.map(line)];
}

function pushSection(p: PushLatencyReport): string[] {
  const base = p.sqlite?.latency ?? null;
  const row = (label: string, l: LatencySummary | null, baseline: boolean): string[] =>
    l === null
      ? [label, DASH, DASH, DASH, DASH, DASH, DASH]
      : [
          label,
          String(l.count),
          ms(l.p50Ms),
          ms(l.p99Ms),
          ms(l.maxMs),
          baseline ? '1.00×' : times(ratio(l.p50Ms, base?.p50Ms)),
          baseline ? '1.00×' : times(ratio(l.p99Ms, base?.p99Ms)),
        ];
  return [
    `## 1. Push → Active: ${p.pushes} pushes, one at a time, to one real sluice-edge`,
    '',
    'Each `POST /v1/rules` is timed from the request to the end of its `201` (the edge bound the',
    "listener and acked it `active`, the store marked it Active). The edge's session is on replica A;",
    'pushes through B go over the replica bus to A and back. Baseline: one sluice-server on SQLite, its own edge.',
    '',
    ...table(
      ['ms', 'n', 'p50', 'p99', 'max', 'p50 / SQLite', 'p99 / SQLite'],
      [
        row('through A (edge held by A)', p.throughA.latency, false),
        row('through B (routed to A)', p.throughB.latency, false),
        row('single server, SQLite', base, true),
      ],
    ),
    '',
    `The edge's /metrics afterwards: ${p.edgeActiveRules ?? DASH} rules active (${2 * p.pushes} pushed).`,
  ];
}

/** The fill's answers other than 201, when there were any. */
function answers(lateAcks: number, storeUnavailable: number): string {
  const parts = [
    ...(lateAcks > 0 ? [`${lateAcks} answered 504 ack_timeout (Active later)`] : []),
    ...(storeUnavailable > 0 ? [`${storeUnavailable} answers 503 store_unavailable, retried`] : []),
  ];
  return parts.length === 0 ? '' : ` (${parts.join('; ')})`;
}

const summaryCells = (s: Summary): string[] => [String(s.n), ms(s.median), ms(s.min), ms(s.max)];

function failoverSection(f: FailoverReport): string[] {
  return [
    `## 2. Edge failover: SIGKILL of replica A, ${f.rounds.length} times`,
    '',
    `One real sluice-edge with ${f.rules} rules, enrolled with a URI listing A then B, its session on A.`,
    "Times from just before the SIGKILL to the edge's log lines (one clock). Between rounds A starts again",
    'at its addresses and the edge is restarted from its bundle, so it is back on A.',
    '',
    ...table(
      ['ms after the SIGKILL', 'n', 'median', 'min', 'max'],
      [
        ['`control connected` naming B', ...summaryCells(f.connected)],
        ["`rules applied` (B's full push)", ...summaryCells(f.applied)],
      ],
    ),
    '',
    `Per round (kill → disconnected seen / on B / rules applied): ${f.rounds
      .map((r) => `${ms(r.detectMs)} / ${ms(r.connectedMs)} / ${ms(r.appliedMs)}`)
      .join('; ')}.`,
    'sluice-edge waits one backoff step (0.5..1 s, jittered) before trying the next address: most of the figure.',
  ];
}

function replaySection(r: ReplayAfterFailoverReport): string[] {
  return [
    `## 3. Replay after failover: ${r.edges} edges × ${r.rulesPerEdge} rules`,
    '',
    `**The ${r.edges} edges are simulated** (protocol clients in the bench process, real pinned TLS sessions, acking`,
    'every push `active`); each moves to the next address of its enrollment URI on its own when its session ends,',
    "after one step of sluice-edge's backoff (0.5..1 s). All held by A with their rules Active, then A is SIGKILLed.",
    '',
    ...table(
      ['ms after the SIGKILL', 'value'],
      [
        ['every edge welcomed by B', ms(r.allWelcomedMs)],
        ["every edge's full push from B acked, all rules active (edge side)", ms(r.allAckedEdgeMs)],
        ["**B's last `push acked`** (store updated: every rule Active again)", ms(r.allAckedServerMs)],
      ],
    ),
    '',
    `Per edge, kill → B's \`push acked\`: median ${ms(r.perEdgeServerMs.median)}, max ${ms(r.perEdgeServerMs.max)} ms; the replay itself (B's \`edge connected\` → \`push acked\`): median ${ms(r.replayServerMs.median)}, max ${ms(r.replayServerMs.max)} ms.`,
    `Before the kill: ${r.edges * r.rulesPerEdge} rules pushed through A in ${r.fillSeconds.toFixed(1)} s${answers(r.lateAcks, r.storeUnavailable)}, every one Active. Afterwards B's API showed ${r.rulesActiveAfter} of them Active.`,
  ];
}

const SETUP_NAMES: Record<LoadReport['setup'], string> = {
  sqlite: 'single server, SQLite',
  'one-replica': 'one replica, PostgreSQL',
  'two-replicas': 'two replicas, PostgreSQL',
};

function loadSection(load: readonly LoadReport[], plan: ReplicasPlan): string[] {
  const base = load.find((l) => l.setup === 'sqlite') ?? null;
  const first = load[0];
  if (first === undefined) return [];
  const window = first.servers[0]?.cpu.wallSeconds ?? 0;
  const rows = load.flatMap((l) => {
    const total = [
      `**${SETUP_NAMES[l.setup]}**`,
      String(l.edges),
      l.cpuSeconds.toFixed(2),
      ((l.cpuSeconds / window) * 100).toFixed(1),
      mib(l.rssKiB),
      l === base ? '1.00×' : times(ratio(l.cpuSeconds, base?.cpuSeconds)),
      l === base ? '1.00×' : times(ratio(l.rssKiB, base?.rssKiB)),
    ];
    if (l.servers.length < 2) return [total];
    return [
      total,
      ...l.servers.map((s) => [
        `  replica ${s.label}`,
        String(s.edges),
        (s.cpu.userSeconds + s.cpu.systemSeconds).toFixed(2),
        s.cpu.percentOfCore.toFixed(1),
        mib(s.rssKiB),
        '',
        '',
      ]),
    ];
  });
  return [
    `## 4. Server CPU and RSS with ${first.edges} simulated edges`,
    '',
    `**Simulated edges**, one rule each, stats every 5 s. CPU: user+sys seconds of each server process (/proc/PID/stat)`,
    `over a ${window.toFixed(1)} s window with every edge connected; RSS at its end. Two replicas: half the edges on each, figures summed.`,
    '',
    ...table(['set-up', 'edges', 'CPU s', '% of a core', 'RSS MiB', 'CPU / SQLite', 'RSS / SQLite'], rows),
    '',
    `Enrolling and connecting the edges: ${load.map((l) => `${SETUP_NAMES[l.setup]} ${l.enrollSeconds.toFixed(1)} s`).join(', ')}.`,
    `One rule to each edge (${plan.concurrency} pushes in flight): ${load
      .map(
        (l) =>
          `${SETUP_NAMES[l.setup]} ${l.fill.seconds.toFixed(1)} s, p50 ${ms(l.fill.latency.p50Ms)} ms, p99 ${ms(l.fill.latency.p99Ms)} ms${answers(l.fill.lateAcks, l.fill.storeUnavailable)}`,
      )
      .join('; ')}.`,
    `Checked at the end: ${load.map((l) => `${SETUP_NAMES[l.setup]} ${l.check.edgesConnected} edges connected, ${l.check.rulesActive} rules Active`).join('; ')}.`,
  ];
}

function countCell(c: ConnectionCount | undefined): string {
  if (c === undefined || c.total === 0) return '0';
  const states = Object.entries(c.byState)
    .sort()
    .map(([state, n]) => `${n} ${state}`)
    .join(', ');
  const oldest =
    c.oldestTransactionSeconds > 0 ? `; oldest transaction ${ms(c.oldestTransactionSeconds * 1000)} ms` : '';
  return `${c.total} (${states}${oldest})`;
}

function connectionsSection(load: readonly LoadReport[], plan: ReplicasPlan): string[] {
  const rows: string[][] = [];
  for (const l of load) {
    if (l.connections === null) continue;
    const labels = l.servers.map((s) => s.label);
    const other = (s: ConnectionSample): ConnectionCount | undefined => s.replicas.other;
    for (const label of labels) {
      rows.push([
        `${SETUP_NAMES[l.setup]}: replica ${label}`,
        countCell(l.connections.idle.replicas[label]),
        countCell(l.connections.underPushLoad.replicas[label]),
        countCell(l.connections.settled.replicas[label]),
      ]);
    }
    const stray = [l.connections.idle, l.connections.underPushLoad, l.connections.settled].map(other);
    if (stray.some((c) => c !== undefined && c.total > 0)) {
      rows.push([`${SETUP_NAMES[l.setup]}: no replica's`, ...stray.map(countCell)]);
    }
  }
  if (rows.length === 0) return [];
  const apps = new Set(
    load.flatMap((l) =>
      l.connections === null
        ? []
        : Object.values(l.connections.underPushLoad.replicas).flatMap((c) => Object.keys(c.byApplication)),
    ),
  );
  return [
    '## 5. Database connections per replica (pg_stat_activity)',
    '',
    "Each backend of the set-up's database is given to the replica whose process holds its client port",
    '(/proc/PID/fd and /proc/net/tcp), so the replicas are told apart exactly. Idle: ready, no edge yet.',
    `Under push load: the busiest reading (most connections not \`idle\`) of pg_stat_activity read every ${plan.pgPollMs} ms while one rule`,
    `went to every edge (${plan.concurrency} pushes in flight). Settled: every edge connected and sending stats, no pushes.`,
    'The oldest transaction is the longest any backend of the replica had one open at that reading.',
    '',
    ...table(['replica', 'idle', 'under push load (busiest)', 'settled'], rows),
    '',
    `Application names seen: ${[...apps].sort().join(', ')} (the store's pool, and the replica bus's one LISTEN connection).`,
  ];
}

export function renderReplicasMarkdown(report: ReplicasReport): string {
  const m = report.machine;
  const load = (values: readonly number[]): string => values.map((v) => v.toFixed(2)).join(' ');
  const lines = [
    `# sluice-server replicas${report.plan.quick ? ' (quick)' : ''}`,
    '',
    `${report.startedAt} · ${m.cpuModel}, ${m.cores} cores, ${Math.round(m.memoryMiB / 1024)} GiB, Linux ${m.kernel}, Node ${m.node}, ${report.postgres ?? 'PostgreSQL'}, commit ${m.commit ?? DASH}`,
    `Load average at start ${load(report.loadAverage.start)}, at end ${load(report.loadAverage.end)} (1, 5, 15 min).`,
    'Every process runs on this one host, the PostgreSQL cluster (initdb + pg_ctl, fsync off) too.',
    '',
  ];
  if (report.pushLatency !== null) lines.push(...pushSection(report.pushLatency), '');
  if (report.failover !== null) lines.push(...failoverSection(report.failover), '');
  if (report.replay !== null) lines.push(...replaySection(report.replay), '');
  if (report.load.length > 0)
    lines.push(
      ...loadSection(report.load, report.plan),
      '',
      ...connectionsSection(report.load, report.plan),
      '',
    );
  if (report.errors.length > 0) {
    lines.push('## Errors', '');
    for (const e of report.errors) lines.push(`- ${e.part}: ${e.message.split('\n')[0]}`);
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

/** Writes `<dir>/<timestamp>.json` and `.md`; answers both paths. */
export function writeReplicasReport(report: ReplicasReport, dir: string): { json: string; markdown: string } {
  mkdirSync(dir, { recursive: true });
  const base = join(dir, fileTimestamp(new Date(report.startedAt)));
  writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(`${base}.md`, renderReplicasMarkdown(report));
  return { json: `${base}.json`, markdown: `${base}.md` };
}
