// The soak's verdict and its report: what went wrong (nothing, on a good run), the phases, the
// edge before, at its peak and after, and the curve of every sample (Markdown, CSV and SVG).

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { renderSvg } from '../charts/render-svg.ts';
import type { EdgeSample } from './edge-sample.ts';
import { atBaseline, type SoakResult } from './run.ts';
import { type TransferTally, tallyFailures } from './soak-messages.ts';
import { pooledPipeFds } from './soak-plan.ts';

/**
 * RSS may stay this far above the baseline after the load: V8 keeps a grown heap and glibc keeps
 * freed arenas, neither of which is a leak. A leak of even 100 bytes per connection over a
 * million connections would pass it, so the churn's own curve is the check for those.
 */
export const RSS_ALLOWANCE_MIB = 48;

function describeTally(what: string, tally: TransferTally): string | null {
  const failures = tallyFailures(tally);
  if (failures === 0) return null;
  const errors = Object.entries(tally.errors).map(([code, n]) => `${n} ${code}`);
  const parts = [
    tally.wrongLength > 0 ? `${tally.wrongLength} ended with the wrong length` : '',
    tally.corrupt > 0 ? `${tally.corrupt} corrupt` : '',
    tally.timedOut > 0 ? `${tally.timedOut} timed out` : '',
    ...errors,
  ].filter((p) => p !== '');
  return `${what}: ${failures} of ${failures + tally.intact} failed (${parts.join(', ')})`;
}

/** Every way the run fell short; empty when it passed. */
export function soakProblems(result: SoakResult): string[] {
  const problems: string[] = [];
  for (const phase of result.phases) {
    if (phase.tally === undefined) continue;
    const problem = describeTally(phase.name, phase.tally);
    if (problem !== null) problems.push(problem);
  }
  if (result.heldOpen < result.plan.concurrent) {
    problems.push(`hold: only ${result.heldOpen} of ${result.plan.concurrent} connections were open at once`);
  }
  if (result.udp.silentFlows > 0) {
    problems.push(`udp: ${result.udp.silentFlows} of ${result.udp.flows} flows got no echo`);
  }
  const { baseline, after } = result;
  if (!atBaseline(after, baseline, pooledPipeFds(result.plan))) {
    problems.push(
      `settle: after ${result.plan.settleSeconds} s the edge still held ${after.connections} connections, ${after.flows} flows, ${after.fds} fds (baseline ${baseline.fds}) and ${after.pipes} pipes (baseline ${baseline.pipes}, and the splice pools may keep ${pooledPipeFds(result.plan)} more)`,
    );
  }
  if (after.rssMiB > baseline.rssMiB + RSS_ALLOWANCE_MIB) {
    problems.push(
      `settle: RSS ${after.rssMiB.toFixed(1)} MiB, more than ${RSS_ALLOWANCE_MIB} MiB over the baseline's ${baseline.rssMiB.toFixed(1)} MiB`,
    );
  }
  if (after.shardRestarts > 0) problems.push(`a shard died ${after.shardRestarts} time(s) during the soak`);
  return problems;
}

function peak(
  samples: readonly EdgeSample[],
  key: 'connections' | 'fds' | 'pipes' | 'rssMiB' | 'flows',
): number {
  return samples.reduce((max, s) => Math.max(max, s[key]), 0);
}

const mib = (n: number): string => n.toFixed(1);

/** At most `rows` samples, evenly spread, always with the first and the last. */
function thin(samples: readonly EdgeSample[], rows: number): EdgeSample[] {
  if (samples.length <= rows) return [...samples];
  const step = (samples.length - 1) / (rows - 1);
  return Array.from({ length: rows }, (_, i) => samples[Math.round(i * step)]!);
}

export function soakMarkdown(result: SoakResult, problems: readonly string[]): string {
  const { plan, baseline, after, samples } = result;
  const churn = result.phases.find((p) => p.name === 'churn');
  const churnRate = churn?.tally ? Math.round(churn.tally.intact / Math.max(churn.seconds, 0.001)) : 0;
  const lines = [
    `# sluice soak, ${result.startedAt}`,
    '',
    `${plan.concurrent.toLocaleString('en')} connections held at once, ${plan.churn.toLocaleString('en')} churned (${plan.lanes} at a time, every one checked by length, every ${plan.sampleEvery}th by sha256), ${plan.flows.toLocaleString('en')} UDP flows; one standalone edge, ${plan.shards} shards, ${plan.relay} path, max_connections ${result.maxConnections}.`,
    '',
    problems.length === 0 ? '**Passed.**' : '**Failed:**',
    ...problems.map((p) => `- ${p}`),
    '',
    '| phase | seconds | intact | failed | sha256 compared | bytes echoed |',
    '| --- | --: | --: | --: | --: | --: |',
    ...result.phases.map((p) =>
      p.tally === undefined
        ? `| ${p.name} | ${p.seconds.toFixed(1)} | | | | |`
        : `| ${p.name} | ${p.seconds.toFixed(1)} | ${p.tally.intact} | ${tallyFailures(p.tally)} | ${p.tally.hashed} | ${p.tally.bytes} |`,
    ),
    '',
    `Churn rate: ${churnRate} transfers/s. UDP: ${result.udp.received} of ${result.udp.sent} datagrams echoed (${((100 * (result.udp.sent - result.udp.received)) / Math.max(result.udp.sent, 1)).toFixed(2)} % lost), ${result.udp.silentFlows} flows silent.`,
    '',
    `The edge is back at its baseline when it holds no connection and no flow, and no descriptor more than at the baseline but for the empty pipes its splice pools keep for the next connections (at most ${pooledPipeFds(plan)} descriptors). Its RSS may stay up to ${RSS_ALLOWANCE_MIB} MiB above the baseline.`,
    '',
    '| the edge | baseline | peak | after |',
    '| --- | --: | --: | --: |',
    `| TCP connections | ${baseline.connections} | ${peak(samples, 'connections')} | ${after.connections} |`,
    `| UDP flows | ${baseline.flows} | ${peak(samples, 'flows')} | ${after.flows} |`,
    `| descriptors | ${baseline.fds} | ${peak(samples, 'fds')} | ${after.fds} |`,
    `| of them pipes | ${baseline.pipes} | ${peak(samples, 'pipes')} | ${after.pipes} |`,
    `| RSS MiB | ${mib(baseline.rssMiB)} | ${mib(peak(samples, 'rssMiB'))} | ${mib(after.rssMiB)} |`,
    '',
    '## The curve',
    '',
    '![soak curve](soak.svg)',
    '',
    '| s | phase | client done | connections | flows | fds | pipes | RSS MiB |',
    '| --: | --- | --: | --: | --: | --: | --: | --: |',
    ...thin(samples, 40).map(
      (s) =>
        `| ${s.t.toFixed(0)} | ${s.phase} | ${s.clientDone} | ${s.connections} | ${s.flows} | ${s.fds} | ${s.pipes} | ${mib(s.rssMiB)} |`,
    ),
    '',
    'Every sample is in soak.csv.',
    '',
  ];
  return lines.join('\n');
}

export function soakCsv(samples: readonly EdgeSample[]): string {
  const header = 'seconds,phase,client_done,connections,flows,fds,pipes,rss_mib,shard_restarts';
  const rows = samples.map((s) =>
    [
      s.t.toFixed(1),
      s.phase,
      s.clientDone,
      s.connections,
      s.flows,
      s.fds,
      s.pipes,
      mib(s.rssMiB),
      s.shardRestarts,
    ].join(','),
  );
  return `${[header, ...rows].join('\n')}\n`;
}

function curveSpec(samples: readonly EdgeSample[]): TopLevelSpec {
  const metrics = [
    ['TCP connections', (s: EdgeSample) => s.connections],
    ['descriptors', (s: EdgeSample) => s.fds],
    ['pipes', (s: EdgeSample) => s.pipes],
    ['UDP flows', (s: EdgeSample) => s.flows],
    ['RSS MiB', (s: EdgeSample) => s.rssMiB],
  ] as const;
  const values = samples.flatMap((s) =>
    metrics.map(([metric, read]) => ({ t: s.t, metric, value: read(s), phase: s.phase })),
  );
  return {
    title: 'sluice soak: the edge over the run',
    data: { values },
    facet: { row: { field: 'metric', type: 'nominal', title: null, sort: metrics.map(([m]) => m) } },
    spec: {
      width: 640,
      height: 90,
      mark: { type: 'line', interpolate: 'step-after' },
      encoding: {
        x: { field: 't', type: 'quantitative', title: 'seconds' },
        y: { field: 'value', type: 'quantitative', title: null },
        color: { field: 'phase', type: 'nominal' },
      },
    },
    resolve: { scale: { y: 'independent' } },
  };
}

export interface SoakFiles {
  readonly markdown: string;
  readonly json: string;
  readonly csv: string;
  readonly svg: string;
}

export async function writeSoakReport(
  result: SoakResult,
  problems: readonly string[],
  dir: string,
): Promise<SoakFiles> {
  mkdirSync(dir, { recursive: true });
  const files = {
    markdown: join(dir, 'soak.md'),
    json: join(dir, 'soak.json'),
    csv: join(dir, 'soak.csv'),
    svg: join(dir, 'soak.svg'),
  };
  writeFileSync(files.markdown, soakMarkdown(result, problems));
  writeFileSync(files.json, `${JSON.stringify({ ...result, problems }, null, 2)}\n`);
  writeFileSync(files.csv, soakCsv(result.samples));
  writeFileSync(files.svg, await renderSvg(curveSpec(result.samples)));
  return files;
}
