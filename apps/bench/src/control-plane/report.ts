// The control-plane bench's report: one JSON object (this shape) and the same as Markdown, written
// side by side as benchmarks/out/control-plane/<timestamp>.{json,md}.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MachineInfo } from '../machine-info.ts';
import { fileTimestamp } from '../report.ts';
import type { LatencySummary } from './latency.ts';
import type { ControlPlanePlan } from './plan.ts';
import type { PushLatencyReport, ReplayReport } from './real-edge.ts';
import type { MemoryReading, ServerMemoryReport } from './server-memory.ts';

/**
 * 2: (a) is measured at levels of rules held (byLevel) instead of over one sequence (byTenth).
 * 3: (b) is timed to the server's ack of the full push (startToAckedMs, startToResumedMs); the
 * metrics are polled only after it.
 */
export const CONTROL_PLANE_REPORT_VERSION = 3;

export interface ControlPlaneReport {
  readonly kind: 'control-plane';
  readonly formatVersion: typeof CONTROL_PLANE_REPORT_VERSION;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly machine: MachineInfo;
  /** 1, 5 and 15 minute load averages as the run started and as it ended. */
  readonly loadAverage: { readonly start: readonly number[]; readonly end: readonly number[] };
  readonly plan: ControlPlanePlan;
  /** (a) null when it failed (see errors). */
  readonly pushLatency: PushLatencyReport | null;
  /** (b) */
  readonly replay: ReplayReport | null;
  /** (c) */
  readonly serverMemory: ServerMemoryReport | null;
  readonly errors: readonly { readonly part: string; readonly message: string }[];
}

const DASH = '–';

function ms(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return DASH;
  return value >= 100 ? `${Math.round(value)}` : value.toFixed(value >= 10 ? 1 : 2);
}

const mib = (kib: number): string => (kib / 1024).toFixed(1);

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map((_, i) => (i === 0 ? '---' : '--:'))), ...rows.map(line)];
}

function latencyRow(label: string, l: LatencySummary | null): string[] {
  if (l === null) return [label, DASH, DASH, DASH, DASH, DASH, DASH];
  return [label, String(l.count), ms(l.p50Ms), ms(l.p90Ms), ms(l.p99Ms), ms(l.maxMs), ms(l.meanMs)];
}

function pushSection(p: PushLatencyReport): string[] {
  const lines = [
    `## (a) Push to Active: ${p.pushes} timed pushes, one at a time, to one real sluice-edge (${p.shards} shard) holding ${p.byLevel.map((l) => l.rulesHeld).join(', ')} rules`,
    '',
    'Each `POST /v1/rules` is timed from the request to the end of its `201`: the server pushes the rule,',
    'the edge binds its listener and acks it `active`, the server stores it Active and answers.',
    '',
    ...table(
      ['latency (ms)', 'n', 'p50', 'p90', 'p99', 'max', 'mean'],
      [
        latencyRow('client (request to 201)', p.latency),
        latencyRow('server (fastify elapsed, whole ms)', p.serverLatency),
      ],
    ),
    '',
    'By how many rules the edge held when the timed pushes began (it was filled up to each level first,',
    'untimed); a push should cost the same whatever the edge holds:',
    '',
    ...table(
      ['rules held', 'n', 'p50', 'p90', 'p99', 'max', 'mean', 'server p50', 'server p99'],
      p.byLevel.map((l) => [
        ...latencyRow(`${l.rulesHeld}–${l.rulesHeld + l.latency.count - 1}`, l.latency),
        ms(l.serverLatency?.p50Ms),
        ms(l.serverLatency?.p99Ms),
      ]),
    ),
    '',
    `${p.pushes} timed pushes in ${p.seconds.toFixed(2)} s: **${p.pushesPerSecond} pushes/s** (one in flight). ` +
      `Before them, ${p.warmupPushes} untimed warm-up pushes (their rules removed again); the first push after the edge connected took ${ms(p.firstPushMs)} ms.`,
    `Afterwards the edge held ${p.rulesHeld} rules; its metrics showed ${p.edgeActiveRules ?? DASH} active, the API ${p.serverActiveRules}.`,
  ];
  if (p.serverMemory !== null && p.edgeMemory !== null) {
    lines.push(
      `Memory then: server RSS ${mib(p.serverMemory.rssKiB)} MiB (PSS ${mib(p.serverMemory.pssKiB)}), edge RSS ${mib(p.edgeMemory.rssKiB)} MiB (PSS ${mib(p.edgeMemory.pssKiB)}).`,
    );
  }
  if (p.retried.length > 0)
    lines.push('', `Retried on another port (${p.retried.length}): ${p.retried.join('; ')}`);
  return lines;
}

function replaySection(r: ReplayReport): string[] {
  return [
    `## (b) Replay: ${r.rules} rules to a reconnecting edge (${r.signal}, then started again from its bundle)`,
    '',
    ...table(
      ['what', 'ms'],
      [
        [
          `**spawn → server log \`push acked\`** for the full push (all ${r.rules} rules active, and the server knows)`,
          ms(r.startToAckedMs),
        ],
        [
          'spawn → edge log `rules resumed ...` (its rules file applied: forwarding again)',
          ms(r.startToResumedMs),
        ],
        ['spawn → edge log `edge ready`', ms(r.startToEdgeReadyMs)],
        ['spawn → edge log `control connected` (welcome received)', ms(r.startToControlConnectedMs)],
        [
          '**replay, server view**: `edge connected` (welcome + full push sent) → `push acked`',
          ms(r.serverReplayMs),
        ],
        [
          'replay, edge view: `control connected` → `rules applied` (full push applied, ack sent next)',
          ms(r.edgeReplayMs),
        ],
      ],
    ),
    '',
    `The full push's ack carried ${r.ackedResults ?? DASH} results, ${r.ackedFailed ?? DASH} failed.` +
      (r.ackTimeoutWarning
        ? ' The server logged `full push not acked in time` (the ack came after its ack_timeout_ms; the rules were applied all the same).'
        : ''),
    'The replay figures come from the pino `time` fields (ms) of the two processes on one clock; the push itself',
    'is not logged, so the server view starts at its `edge connected` line, written just before welcome and the full push.',
    `Then, as a check, the edge's /metrics?format=json (polled every ${r.pollMs} ms from the ack on: each poll builds the`,
    `JSON of every rule in the edge's one thread) showed all ${r.rules} rules active ${ms(r.startToAllActiveMs)} ms after the spawn.`,
  ];
}

function memoryRow(label: string, m: MemoryReading): string[] {
  return [label, m.atSeconds.toFixed(1), mib(m.rssKiB), mib(m.pssKiB)];
}

function memorySection(m: ServerMemoryReport): string[] {
  return [
    `## (c) sluice-server memory: ${m.edges} edges, ${m.rules} rules`,
    '',
    `**The ${m.edges} edges are simulated**: protocol clients in the bench process, each with a real TLS session`,
    'pinned to the server certificate, enrolled with a one-time code from the API, sending hello, acking every',
    `push with \`active\` results and sending cumulative stats every ${m.statsIntervalMs} ms; they are not data planes`,
    '(no listener is bound). The server cannot tell them from sluice-edge.',
    '',
    ...table(
      ['sluice-server', 's since ready', 'RSS MiB', 'PSS MiB'],
      [
        memoryRow('idle, before any edge connected', m.idle),
        memoryRow(`${m.edges} edges connected, no rules`, m.edgesConnected),
        memoryRow(`${m.rules} rules active`, m.rulesActive),
        memoryRow(`**after ${m.settleSeconds} s settle**`, m.settled),
      ],
    ),
    '',
    `RSS over the settle period (every second): min ${mib(m.settleRss.minKiB)}, median ${mib(m.settleRss.medianKiB)}, max ${mib(m.settleRss.maxKiB)} MiB.`,
    `Filling: ${m.rules} rules in ${m.fill.seconds.toFixed(2)} s with ${m.fill.concurrency} requests in flight (${m.fill.pushesPerSecond} pushes/s; latency p50 ${ms(m.fill.latency.p50Ms)}, p99 ${ms(m.fill.latency.p99Ms)} ms).`,
    `At the end the API showed ${m.check.edgesConnected} edges connected and ${m.check.rulesActive} rules active; the edges had sent ${m.check.statsReports} stats reports (one rule's stats last at ${m.check.sampleRuleStatsAt ?? 'never'}).`,
  ];
}

export function renderControlPlaneMarkdown(report: ControlPlaneReport): string {
  const m = report.machine;
  const load = (values: readonly number[]): string => values.map((v) => v.toFixed(2)).join(' ');
  const lines = [
    `# sluice control plane${report.plan.quick ? ' (quick)' : ''}`,
    '',
    `${report.startedAt} · ${m.cpuModel}, ${m.cores} cores, ${Math.round(m.memoryMiB / 1024)} GiB, Linux ${m.kernel}, Node ${m.node}, commit ${m.commit ?? DASH}`,
    `Load average at start ${load(report.loadAverage.start)}, at end ${load(report.loadAverage.end)} (1, 5, 15 min).`,
    '',
  ];
  if (report.pushLatency !== null) lines.push(...pushSection(report.pushLatency), '');
  if (report.replay !== null) lines.push(...replaySection(report.replay), '');
  if (report.serverMemory !== null) lines.push(...memorySection(report.serverMemory), '');
  if (report.errors.length > 0) {
    lines.push('## Errors', '');
    for (const e of report.errors) lines.push(`- ${e.part}: ${e.message.split('\n')[0]}`);
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

/** Writes `<dir>/<timestamp>.json` and `.md`; answers both paths. */
export function writeControlPlaneReport(
  report: ControlPlaneReport,
  dir: string,
): { json: string; markdown: string } {
  mkdirSync(dir, { recursive: true });
  const base = join(dir, fileTimestamp(new Date(report.startedAt)));
  writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(`${base}.md`, renderControlPlaneMarkdown(report));
  return { json: `${base}.json`, markdown: `${base}.md` };
}
