// What every scenario's Markdown section is made of: cells for medians with their min–max, the
// table layout, and the notes for failed runs and contenders a scenario does not apply to.

import type { Summary } from '../stats.ts';
import type { MatrixRow, NotApplicable } from './matrix.ts';

export const DASH = '–';

export function fixed(value: number | null | undefined, digits: number): string {
  return value === null || value === undefined || !Number.isFinite(value) ? DASH : value.toFixed(digits);
}

/** `9.81` or, with repeats, `9.81 (9.60–9.95)`; scaled by `scale` first. */
export function cell(summary: Summary | null | undefined, digits: number, scale = 1): string {
  if (summary === null || summary === undefined) return DASH;
  const v = (x: number): string => (x / scale).toFixed(digits);
  return summary.n > 1
    ? `${v(summary.median)} (${v(summary.min)}${DASH}${v(summary.max)})`
    : v(summary.median);
}

/** A Markdown table: the first column left-aligned, the figures right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  const align = header.map((_, i) => (i === 0 ? '---' : '--:'));
  return [line(header), line(align), ...rows.map(line)];
}

export function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
}

/** Notes for failed runs and for contenders the scenario does not apply to. */
export function matrixNotes(
  scenario: string,
  rows: readonly MatrixRow<unknown, string>[],
  notApplicable: readonly NotApplicable[],
  notes: string[],
): void {
  for (const row of rows) {
    for (const run of row.runs) {
      if (run.error === null) continue;
      notes.push(
        `${scenario}, ${row.contender}, ${row.pointLabel}, run ${run.repeat}: ${run.error.code}: ${firstLine(run.error.message)}`,
      );
    }
  }
  // One note per reason: `c-splice, naive-pipe (a TCP stream relay)`.
  const byReason = new Map<string, string[]>();
  for (const n of notApplicable) byReason.set(n.reason, [...(byReason.get(n.reason) ?? []), n.contender]);
  if (byReason.size > 0) {
    const groups = [...byReason].map(([reason, ids]) => `${ids.join(', ')} (${reason})`);
    notes.push(`${scenario}: not applicable to ${groups.join('; ')}`);
  }
}

export function failedCell(row: MatrixRow<unknown, string>): string {
  return `failed (${row.runs.find((r) => r.error !== null)?.error?.code ?? 'no runs'})`;
}

export function contendersOf(rows: readonly MatrixRow<unknown, string>[]): { id: string; label: string }[] {
  const seen = new Map<string, string>();
  for (const r of rows) if (!seen.has(r.contender)) seen.set(r.contender, r.label);
  return [...seen].map(([id, label]) => ({ id, label }));
}

/** The `× direct` and `× REDIRECT` cells of a row, for one metric. */
export function ratioCells<K extends string>(
  row: MatrixRow<unknown, K, unknown>,
  metric: K,
): [string, string] {
  return [fixed(row.vsDirect[metric], 2), fixed(row.vsRedirect[metric], 2)];
}
