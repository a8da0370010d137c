// Command-line flags to BenchOptions, validated at the boundary: a bad flag names itself and
// what is accepted.

import { countFlag } from './count-flag.ts';
import { BENCH_ERRORS } from './errors.ts';
import type { BenchOptions } from './report.ts';
import { FULL_PLAN, QUICK_PLAN } from './scenarios/plan.ts';
import { SCENARIO_IDS, type ScenarioId } from './scenarios/registry.ts';

export interface RawFlags {
  readonly quick?: boolean;
  readonly only?: string;
  readonly contenders?: string;
  readonly duration?: string;
  readonly repeats?: string;
  readonly connections?: string;
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function isScenarioId(value: string): value is ScenarioId {
  return (SCENARIO_IDS as readonly string[]).includes(value);
}

function integerList(flag: string, value: string | undefined, fallback: readonly number[]): number[] {
  if (value === undefined) return [...fallback];
  const items = list(value);
  if (items.length === 0) {
    throw BENCH_ERRORS.error('bad_flag', { flag, reason: 'expected whole numbers separated by commas' });
  }
  return items.map((item) => countFlag(flag, item, 0, 1, 100_000));
}

export function resolveOptions(flags: RawFlags, contenderIds: readonly string[]): BenchOptions {
  const quick = flags.quick ?? false;
  const defaults = quick ? QUICK_PLAN : FULL_PLAN;

  let scenarios: ScenarioId[] = [...SCENARIO_IDS];
  if (flags.only !== undefined) {
    const wanted = list(flags.only);
    const unknown = wanted.filter((s) => !isScenarioId(s));
    if (wanted.length === 0 || unknown.length > 0) {
      throw BENCH_ERRORS.error('bad_flag', {
        flag: '--only',
        reason: `unknown scenario "${unknown[0] ?? flags.only}" (one of: ${SCENARIO_IDS.join(', ')})`,
      });
    }
    scenarios = SCENARIO_IDS.filter((s) => wanted.includes(s));
  }

  let contenders = [...contenderIds];
  if (flags.contenders !== undefined) {
    const wanted = list(flags.contenders);
    const unknown = wanted.filter((c) => !contenderIds.includes(c));
    if (wanted.length === 0 || unknown.length > 0) {
      throw BENCH_ERRORS.error('bad_flag', {
        flag: '--contenders',
        reason: `unknown contender "${unknown[0] ?? flags.contenders}" (any of: ${contenderIds.join(', ')})`,
      });
    }
    // Table order, whatever order the flag gave.
    contenders = contenderIds.filter((c) => wanted.includes(c));
  }

  const seconds = countFlag('--duration', flags.duration, defaults.seconds, 1, 3600);
  const repeats = countFlag('--repeats', flags.repeats, defaults.repeats, 1, 100);
  const plan = {
    ...defaults,
    seconds,
    repeats,
    idleConnections: integerList('--connections', flags.connections, defaults.idleConnections),
  };
  return { quick, scenarios, contenders, seconds, repeats, plan };
}
