// One bench run as data: what ran where, every raw run, and the summaries. The JSON file is
// this object; the Markdown table is rendered from it (report-markdown.ts).

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RelayKind } from './contender.ts';
import type { MachineInfo } from './machine-info.ts';
import type { ScenarioId, ScenarioPlan, ScenarioReports } from './scenarios/registry.ts';

/**
 * 2: one field per scenario (null when it did not run; scenarios/registry.ts names them), the
 * plan in `options`, idle-memory at several counts (PSS); `qosCap` came later within 2, so older
 * reports lack it (readReport fills it with null). Most scenarios
 * share scenarios/matrix.ts's shape: `points`, `rows` (one per contender and point, each
 * metric's median and min-max, ratios to direct and REDIRECT at the same point) and
 * `notApplicable`.
 */
export const REPORT_FORMAT_VERSION = 2;

export interface ContenderEntry {
  readonly id: string;
  readonly label: string;
  readonly relay: RelayKind;
  readonly description: string;
  /** Why it did not run on this host; null when it ran. */
  readonly skipped: string | null;
}

export interface BenchOptions {
  readonly quick: boolean;
  readonly scenarios: readonly ScenarioId[];
  readonly contenders: readonly string[];
  /** Seconds per measured run and repeats: the same as `plan.seconds` / `plan.repeats`. */
  readonly seconds: number;
  readonly repeats: number;
  /** Everything each scenario measures (quick or full, with the flags' overrides). */
  readonly plan: ScenarioPlan;
}

/** The run's facts, then one field per scenario (`throughput`, `sweep`, ... `qosCap`). */
export interface BenchReport extends ScenarioReports {
  readonly formatVersion: typeof REPORT_FORMAT_VERSION;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly machine: MachineInfo;
  readonly options: BenchOptions;
  readonly contenders: readonly ContenderEntry[];
  /** Wall-clock seconds each scenario took, start-ups included. */
  readonly scenarioSeconds: Readonly<Partial<Record<ScenarioId, number>>>;
}

/** `2026-11-23T12-03-24Z`: sortable, and safe in file names. */
export function fileTimestamp(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replaceAll(':', '-');
}

/** Writes `<dir>/<timestamp>.json` and returns its path. */
export function writeJsonReport(report: BenchReport, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${fileTimestamp(new Date(report.startedAt))}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}
