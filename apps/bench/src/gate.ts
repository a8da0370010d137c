// Gates: ratios between two contenders measured in the same bench run, each with a floor it must
// not fall below. This module is pure: it validates `benchmarks/gates.json` and compares the
// observations of one report (handed in as a lookup) with the floors. Running the suite and
// reading the report are gate-main.ts's; turning a report into observations is gate-metrics.ts's.

import { z } from 'zod';
import { BENCH_ERRORS } from './errors.ts';

const GATE_ID = /^[a-z][a-z0-9_]*$/;

const gateSchema = z.strictObject({
  /** Stable snake_case name (`splice_vs_c_splice`). */
  id: z.string().regex(GATE_ID, 'must be snake_case'),
  description: z.string().min(1),
  /** The scenario that measures it (`throughput`, `idle-memory`, ...). */
  scenario: z.string().min(1),
  /** Which figure of that scenario (`bits_per_second`, `kib_per_connection`, ...). */
  metric: z.string().min(1),
  /**
   * Which of a contender's repeated runs stands for it: the median (default), or the best run
   * (`max`), for figures like throughput where noise on a shared host only ever slows a run down.
   */
  statistic: z.enum(['median', 'max']).optional(),
  /** Which case of the scenario, when it measures several (`4000` connections, `1KiB/100`). */
  case: z.string().min(1).optional(),
  /** ratio = numerator's figure / denominator's figure, both from the same run. */
  numerator: z.string().min(1),
  denominator: z.string().min(1),
  /**
   * When numerator and denominator are what the scenario itself measures rather than contenders
   * (edge-memory's `bare-node-2-workers`, `sluice-2-shards`): the contenders that bring them in.
   */
  contenders: z.array(z.string().min(1)).min(1).optional(),
  /** The ratio must be at least this. */
  floor: z.number().positive(),
  /** The median ratio observed when the floor was set. */
  measured_median: z.number().positive(),
  /** How far below the median the floor sits, and why (the spread it was set from). */
  margin: z.string().min(1),
  /** A gate whose contender cannot run on this host (skipped, not failed) passes as skipped. */
  optional: z.boolean().optional(),
});

const gatesFileSchema = z.strictObject({
  $comment: z.union([z.string(), z.array(z.string())]).optional(),
  suite: z.strictObject({
    /** Flags for sluice-bench besides --only/--contenders (which the gates decide). */
    args: z.array(z.string()),
    /** More flags for one scenario's run (`"idle-memory": ["--connections", "4000"]`). */
    scenario_args: z.record(z.string(), z.array(z.string())).optional(),
    /** Flags for `pnpm bench:control`, run when a gate's scenario is `control-plane`. */
    control_plane_args: z.array(z.string()).optional(),
  }),
  gates: z.array(gateSchema).min(1),
});

export type GateSpec = z.infer<typeof gateSchema>;
export type GatesFile = z.infer<typeof gatesFileSchema>;

function issuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path)
    out += typeof part === 'number' ? `[${part}]` : `${out === '' ? '' : '.'}${String(part)}`;
  return out === '' ? '(top level)' : out;
}

/** Parses and validates gates.json; a bad file is a BenchError naming the path of the problem. */
export function parseGatesFile(text: string, file: string): GatesFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw BENCH_ERRORS.error('gates_file_invalid', {
      file,
      reason: `not JSON: ${err instanceof Error ? err.message : String(err)}`,
    });
  }
  const parsed = gatesFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw BENCH_ERRORS.error('gates_file_invalid', {
      file,
      reason: issue === undefined ? 'invalid' : `${issuePath(issue.path)}: ${issue.message}`,
    });
  }
  const seen = new Set<string>();
  for (const [i, gate] of parsed.data.gates.entries()) {
    if (seen.has(gate.id)) {
      throw BENCH_ERRORS.error('gates_file_invalid', {
        file,
        reason: `gates[${i}].id: "${gate.id}" appears twice`,
      });
    }
    seen.add(gate.id);
    if (gate.numerator === gate.denominator) {
      throw BENCH_ERRORS.error('gates_file_invalid', {
        file,
        reason: `gates[${i}]: numerator and denominator are both "${gate.numerator}"`,
      });
    }
  }
  return parsed.data;
}

/** What the report says about one contender's figure for one gate. */
export type Observation =
  | { readonly kind: 'value'; readonly value: number }
  /** The contender cannot run on this host (not installed, not permitted). */
  | { readonly kind: 'skipped'; readonly reason: string }
  /** The report has no figure: not run, failed, or not measured. */
  | { readonly kind: 'missing'; readonly reason: string };

export type GateLookup = (gate: GateSpec, contender: string) => Observation;

export type GateStatus = 'pass' | 'fail' | 'skipped';

export interface GateResult {
  readonly id: string;
  readonly description: string;
  readonly status: GateStatus;
  readonly ratio: number | null;
  readonly floor: number;
  readonly measuredMedian: number;
  readonly numeratorValue: number | null;
  readonly denominatorValue: number | null;
  /** Why it failed or was skipped; for a pass, the ratio against the floor. */
  readonly message: string;
}

/** A figure with its unit, read from the metric's name (`bits_per_second` → `17.3 Gbit/s`). */
export function formatFigure(metric: string, n: number): string {
  if (metric === 'bits_per_second') return `${(n / 1e9).toFixed(2)} Gbit/s`;
  if (metric === 'kib_per_connection') return `${n.toFixed(2)} KiB/conn`;
  if (metric === 'requests_per_second') return `${Math.round(n)} req/s`;
  if (metric === 'rss_kib') return `${(n / 1024).toFixed(1)} MiB RSS`;
  if (metric.endsWith('_ms')) return `${n.toFixed(1)} ms`;
  return Math.abs(n) >= 100 ? n.toFixed(0) : n.toPrecision(3);
}

export function evaluateGate(gate: GateSpec, lookup: GateLookup): GateResult {
  const num = lookup(gate, gate.numerator);
  const den = lookup(gate, gate.denominator);
  const base = {
    id: gate.id,
    description: gate.description,
    floor: gate.floor,
    measuredMedian: gate.measured_median,
    numeratorValue: num.kind === 'value' ? num.value : null,
    denominatorValue: den.kind === 'value' ? den.value : null,
  };
  const where = `${gate.scenario}${gate.case === undefined ? '' : ` (${gate.case})`}`;

  const sides = [
    [gate.numerator, num],
    [gate.denominator, den],
  ] as const;
  const skipped = sides.flatMap(([id, o]) =>
    o.kind === 'skipped' ? [`${id} was skipped on this host: ${o.reason}`] : [],
  );
  if (skipped.length > 0) {
    if (gate.optional === true) {
      return {
        ...base,
        status: 'skipped',
        ratio: null,
        message: `optional gate not checked: ${skipped.join('; ')}`,
      };
    }
    return {
      ...base,
      status: 'fail',
      ratio: null,
      message: `${skipped.join('; ')} (the gate needs it; install it, or mark the gate "optional": true)`,
    };
  }
  const missing = sides.flatMap(([id, o]) =>
    o.kind === 'missing' ? [`no ${where} ${gate.metric} for ${id}: ${o.reason}`] : [],
  );
  if (missing.length > 0 || num.kind !== 'value' || den.kind !== 'value') {
    return { ...base, status: 'fail', ratio: null, message: missing.join('; ') };
  }
  if (!Number.isFinite(num.value) || !Number.isFinite(den.value) || den.value <= 0 || num.value < 0) {
    return {
      ...base,
      status: 'fail',
      ratio: null,
      message: `cannot divide ${gate.numerator} ${formatFigure(gate.metric, num.value)} by ${gate.denominator} ${formatFigure(gate.metric, den.value)}`,
    };
  }
  const ratio = num.value / den.value;
  const against = `${ratio.toFixed(2)} (${gate.numerator} ${formatFigure(gate.metric, num.value)} / ${gate.denominator} ${formatFigure(gate.metric, den.value)}; floor ${gate.floor}, median when set ${gate.measured_median.toFixed(2)})`;
  if (ratio < gate.floor) return { ...base, status: 'fail', ratio, message: `below its floor: ${against}` };
  return { ...base, status: 'pass', ratio, message: against };
}

export interface GateVerdict {
  /** True when no gate failed (skipped optional gates do not fail). */
  readonly ok: boolean;
  readonly results: readonly GateResult[];
}

export function evaluateGates(gates: readonly GateSpec[], lookup: GateLookup): GateVerdict {
  const results = gates.map((g) => evaluateGate(g, lookup));
  return { ok: results.every((r) => r.status !== 'fail'), results };
}

/**
 * Judges a second run of the gates that failed the first. A gate fails only when it is below
 * its floor in both runs: one noisy run on a shared machine does not fail CI, while a real
 * regression, which shows in every run, still does. Gates that passed or were skipped in the
 * first run keep that result.
 */
export function mergeRetry(first: GateVerdict, retry: GateVerdict): GateVerdict {
  const retried = new Map(retry.results.map((r) => [r.id, r]));
  const results = first.results.map((r): GateResult => {
    const again = r.status === 'fail' ? retried.get(r.id) : undefined;
    if (again === undefined) return r;
    const firstRatio = r.ratio === null ? 'no figure' : r.ratio.toFixed(2);
    if (again.status === 'fail') {
      return { ...again, message: `failed twice: first run ${firstRatio}; retry ${again.message}` };
    }
    return { ...again, message: `${again.message}; passed on retry (first run ${firstRatio})` };
  });
  return { ok: results.every((r) => r.status !== 'fail'), results };
}

/**
 * What the gate suite runs: each gated scenario once, with only the contenders its gates compare
 * (a scenario is not run for contenders that only another scenario's gates need).
 */
export function gateNeeds(gates: readonly GateSpec[]): { scenario: string; contenders: string[] }[] {
  const byScenario = new Map<string, Set<string>>();
  for (const g of gates) {
    const set = byScenario.get(g.scenario) ?? new Set<string>();
    for (const id of g.contenders ?? [g.numerator, g.denominator]) set.add(id);
    byScenario.set(g.scenario, set);
  }
  return [...byScenario].map(([scenario, contenders]) => ({ scenario, contenders: [...contenders] }));
}

const MARK: Readonly<Record<GateStatus, string>> = { pass: 'ok  ', fail: 'FAIL', skipped: 'skip' };

/** A line per gate, then every failure again with its reason (what CI logs show). */
export function formatVerdict(verdict: GateVerdict): string {
  const width = Math.max(...verdict.results.map((r) => r.id.length));
  const lines = verdict.results.map((r) => `${MARK[r.status]} ${r.id.padEnd(width)}  ${r.message}`);
  const failed = verdict.results.filter((r) => r.status === 'fail');
  lines.push('');
  if (failed.length === 0) {
    const skipped = verdict.results.filter((r) => r.status === 'skipped').length;
    lines.push(
      `bench gate: all ${verdict.results.length - skipped} gates met${skipped > 0 ? ` (${skipped} optional skipped)` : ''}`,
    );
  } else {
    lines.push(`bench gate: ${failed.length} of ${verdict.results.length} gates failed:`);
    for (const r of failed) lines.push(`  - ${r.id} (${r.description}): ${r.message}`);
  }
  return `${lines.join('\n')}\n`;
}
