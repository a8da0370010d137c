// One bench run as data: what ran where, every raw run, and the summaries. The JSON file is
// this object; the Markdown table is rendered from it (report-markdown.ts).

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RelayKind } from './contender.ts';
import type { MachineInfo } from './machine-info.ts';
import type { IdleMemoryReport } from './scenarios/idle-memory.ts';
import type { ScenarioId } from './scenarios/scenario.ts';
import type { ThroughputReport } from './scenarios/throughput.ts';

export const REPORT_FORMAT_VERSION = 1;

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
  readonly seconds: number;
  readonly repeats: number;
  readonly connections: number;
}

export interface BenchReport {
  readonly formatVersion: typeof REPORT_FORMAT_VERSION;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly machine: MachineInfo;
  readonly options: BenchOptions;
  readonly contenders: readonly ContenderEntry[];
  readonly throughput: ThroughputReport | null;
  readonly idleMemory: IdleMemoryReport | null;
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
