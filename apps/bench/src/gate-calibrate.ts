// Setting floors from measurements: the ratio each gate saw over several runs of the gate suite,
// its median and spread, and the floor that the margin rule gives. Pure; gate-main.ts prints it
// (`pnpm bench:gate --calibrate a.json,b.json,...`) and a person copies it into gates.json.
//
// The margin rule: twice the largest drop below the median seen over the runs, and never less
// than MIN_MARGIN, rounded up to a whole 5 %. Twice, because a handful of runs shows only part
// of the spread a noisy host has; the minimum, because even on a quiet 2-core machine one quick
// suite run moves these ratios by up to about 20 % (iperf3 over loopback lands its threads on
// the cores differently from run to run), and a gate that fails on that blocks every change.

import type { GateLookup, GateSpec } from './gate.ts';
import { median } from './stats.ts';

export const MIN_MARGIN = 0.25;
const SAFETY = 2;
const STEP = 0.05;

export interface Calibration {
  readonly id: string;
  /** The ratio in each run that had both figures. */
  readonly ratios: readonly number[];
  /** Runs that lacked a figure, with why. */
  readonly gaps: readonly string[];
  readonly median: number | null;
  readonly min: number | null;
  readonly max: number | null;
  /** (median - min) / median. */
  readonly largestDrop: number | null;
  readonly margin: number | null;
  readonly floor: number | null;
}

/** The margin the rule gives for the largest relative drop below the median seen. */
export function marginFor(largestDrop: number): number {
  const raw = Math.max(SAFETY * largestDrop, MIN_MARGIN);
  return Math.round(Math.ceil(raw / STEP - 1e-9) * STEP * 100) / 100;
}

export function calibrate(gates: readonly GateSpec[], runs: readonly GateLookup[]): Calibration[] {
  return gates.map((gate) => {
    const ratios: number[] = [];
    const gaps: string[] = [];
    runs.forEach((lookup, i) => {
      const num = lookup(gate, gate.numerator);
      const den = lookup(gate, gate.denominator);
      if (num.kind === 'value' && den.kind === 'value' && den.value > 0) ratios.push(num.value / den.value);
      else {
        const why = [num, den].flatMap((o) => (o.kind === 'value' ? [] : [o.reason]));
        gaps.push(`run ${i + 1}: ${why.join('; ') || 'baseline is zero'}`);
      }
    });
    if (ratios.length === 0) {
      return {
        id: gate.id,
        ratios,
        gaps,
        median: null,
        min: null,
        max: null,
        largestDrop: null,
        margin: null,
        floor: null,
      };
    }
    const mid = median(ratios);
    const min = Math.min(...ratios);
    const largestDrop = (mid - min) / mid;
    const margin = marginFor(largestDrop);
    return {
      id: gate.id,
      ratios,
      gaps,
      median: mid,
      min,
      max: Math.max(...ratios),
      largestDrop,
      margin,
      floor: Math.floor(mid * (1 - margin) * 100) / 100,
    };
  });
}

const f2 = (n: number | null): string => (n === null ? '–' : n.toFixed(2));
const pct = (n: number | null): string => (n === null ? '–' : `${Math.round(n * 100)}%`);

export function formatCalibration(rows: readonly Calibration[], runs: number): string {
  const lines = [
    `calibration over ${runs} runs: median, min–max, largest drop below the median, margin (rule: max(2 × drop, ${pct(MIN_MARGIN)}), rounded up to 5%), floor`,
    '',
  ];
  for (const r of rows) {
    lines.push(
      `${r.id}: median ${f2(r.median)}, ${f2(r.min)}–${f2(r.max)} over ${r.ratios.length} runs [${r.ratios.map((x) => x.toFixed(2)).join(', ')}], drop ${pct(r.largestDrop)}, margin ${pct(r.margin)}, floor ${f2(r.floor)}`,
    );
    for (const gap of r.gaps) lines.push(`  ${gap}`);
  }
  return `${lines.join('\n')}\n`;
}
