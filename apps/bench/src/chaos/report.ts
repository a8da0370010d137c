// The chaos run's report: the verdict, every kill with its recovery time, how the transfers
// ended, and the final check of each rule (Markdown and JSON).

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tallyFailures } from '../soak/soak-messages.ts';
import { victims } from './chaos-plan.ts';
import type { ChaosResult } from './run.ts';

function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const secs = (n: number | null): string => (n === null ? '–' : n.toFixed(1));

export function chaosMarkdown(result: ChaosResult): string {
  const { plan, tally } = result;
  const cut = Object.entries(tally.errors)
    .sort((a, b) => b[1] - a[1])
    .map(([code, n]) => `${n} ${code}`)
    .join(', ');
  const byVictim = victims(plan).map((victim) => {
    const times = result.kills
      .filter((k) => k.victim === victim && k.recoveredSeconds !== null)
      .map((k) => k.recoveredSeconds!)
      .sort((a, b) => a - b);
    const killed = result.kills.filter((k) => k.victim === victim).length;
    return `| ${victim} | ${killed} | ${secs(percentile(times, 50))} | ${secs(times.at(-1) ?? null)} |`;
  });
  return [
    `# sluice chaos, ${result.startedAt}`,
    '',
    `${result.seconds.toFixed(0)} s of transfers over ${plan.rules} rules of one managed edge (2 shards), ${plan.lanes} at a time (every one checked by length, every ${plan.sampleEvery}th by sha256), with the server on ${plan.store}; a kill every ${plan.minGapSeconds} to ${plan.maxGapSeconds} s once the last one has recovered; seed ${plan.seed}.`,
    '',
    result.violations.length === 0 ? '**Passed:** no violation.' : '**Failed:**',
    ...result.violations.map((v) => `- ${v}`),
    '',
    '| victim | kills | recovery p50 s | recovery max s |',
    '| --- | --: | --: | --: |',
    ...byVictim,
    '',
    `Transfers: ${tally.intact} intact (${tally.hashed} of them compared by sha256), ${tallyFailures(tally)} not: ${tally.wrongLength} ended cleanly with the wrong length, ${tally.corrupt} corrupt, ${tally.timedOut} hung, and the cut ones ended by an error: ${cut || 'none'}.`,
    '',
    `Counters read ${result.counterSamples} times (the server's per-rule totals, the edge's connections_total): none went backwards unless listed above.`,
    '',
    '| s | killed | recovered after s |',
    '| --: | --- | --: |',
    ...result.kills.map((k) => `| ${k.t.toFixed(1)} | ${k.what} | ${secs(k.recoveredSeconds)} |`),
    '',
    '| rule | transfer after the run |',
    '| --- | --- |',
    ...result.finalChecks.map((c) => `| ${c.rule} | ${c.outcome} |`),
    '',
  ].join('\n');
}

export function writeChaosReport(result: ChaosResult, dir: string): { markdown: string; json: string } {
  mkdirSync(dir, { recursive: true });
  const files = { markdown: join(dir, 'chaos.md'), json: join(dir, 'chaos.json') };
  writeFileSync(files.markdown, chaosMarkdown(result));
  writeFileSync(files.json, `${JSON.stringify(result, null, 2)}\n`);
  return files;
}
