// How an edge's stats reports become per-rule totals. An edge's counters are cumulative since
// its process started (`bootId`): within one boot the delta is the difference to the last
// report; a new boot (an edge restart) starts from zero, so its first report is all delta; a
// counter that went back within one boot was reset (a rule rebound) and counts from zero. The
// last report is kept beside the totals, so a server restart loses nothing either. Pure: the
// backends load the state, fold, and store what comes out, in one transaction.
//
// After its first report on a session an edge leaves out the rules whose counts did not move
// (and sends a rule once more after they stopped, so its rate falls to 0). A rule's rate is then
// taken over the time since its own last report or the session's last report, whichever is
// later: a rule left out in between had not moved, so all of its growth is from then on.

import type { RuleStats } from '@sluice/protocol';
import type { RuleStatsRecord } from './records.ts';

/** The cumulative counters of a report, the ones folded by delta. */
const CUMULATIVE_COUNTERS = ['bytesIn', 'bytesOut', 'connectionsTotal', 'rejected', 'connectErrors'] as const;

type CumulativeCounter = (typeof CUMULATIVE_COUNTERS)[number];
export type CounterValues = Readonly<Record<CumulativeCounter, number>>;

/** Counts per reject reason, cumulative like the counters. */
export type ReasonCounts = Readonly<Record<string, number>>;

/** What is stored per rule: the totals, and the report of `bootId` the next delta is taken against. */
export interface RuleStatsState {
  readonly stats: RuleStatsRecord;
  readonly bootId: string;
  readonly last: CounterValues;
  /** The last report's rejects by reason (of `bootId`). */
  readonly lastRejectedByReason: ReasonCounts;
}

/** A folded report: the rule's new state, and what this report added to its totals. */
export interface FoldedRuleStats {
  readonly state: RuleStatsState;
  /** The counters' growth by this report, the amounts traffic history adds to its buckets. */
  readonly delta: CounterValues;
}

export interface StatsFold {
  readonly bootId: string;
  /** When the report arrived (epoch ms): the totals' time, and the rates' interval end. */
  readonly now: number;
  /** When the same session's previous report arrived (epoch ms); null: this is its first. */
  readonly since?: number | null;
  readonly reports: readonly RuleStats[];
  /**
   * The live rules of the reporting edge, each with its stored state (null: no report yet).
   * A report of any other rule (unknown, removed, another edge's) is dropped.
   */
  readonly known: ReadonlyMap<string, RuleStatsState | null>;
}

/** The growth of a cumulative count since its baseline (none: a new boot, all of it is new). */
function grown(before: number | undefined, value: number): number {
  if (before === undefined) return value;
  // A counter below its baseline was reset (the rule rebound): what it holds is all new.
  return value >= before ? value - before : value;
}

function delta(
  previous: RuleStatsState | null,
  bootId: string,
  key: CumulativeCounter,
  value: number,
): number {
  return grown(previous === null || previous.bootId !== bootId ? undefined : previous.last[key], value);
}

/** Adds each reason's growth since the last report of the same boot to its total. */
function foldReasons(previous: RuleStatsState | null, bootId: string, reported: ReasonCounts): ReasonCounts {
  const sameBoot = previous !== null && previous.bootId === bootId;
  const totals: Record<string, number> = { ...previous?.stats.rejectedByReason };
  for (const [reason, value] of Object.entries(reported)) {
    const before = sameBoot ? (previous.lastRejectedByReason[reason] ?? 0) : undefined;
    const more = grown(before, value);
    if (more > 0) totals[reason] = (totals[reason] ?? 0) + more;
  }
  return totals;
}

/** Folds one report of one rule into its state. */
export function foldRuleStats(
  previous: RuleStatsState | null,
  bootId: string,
  report: RuleStats,
  now: number,
  since: number | null = null,
): FoldedRuleStats {
  const deltas = {} as Record<CumulativeCounter, number>;
  const last = {} as Record<CumulativeCounter, number>;
  for (const key of CUMULATIVE_COUNTERS) {
    deltas[key] = delta(previous, bootId, key, report[key]);
    last[key] = report[key];
  }
  const total = (key: CumulativeCounter): number => (previous?.stats[key] ?? 0) + deltas[key];
  // The first report has no interval to divide by: its rate is 0, not its totals.
  const seconds = previous === null ? 0 : (now - Math.max(previous.stats.at, since ?? 0)) / 1000;
  const rate = (bytes: number): number => (seconds > 0 ? bytes / seconds : 0);
  const state: RuleStatsState = {
    stats: {
      ruleId: report.ruleId,
      at: now,
      bytesIn: total('bytesIn'),
      bytesOut: total('bytesOut'),
      connectionsTotal: total('connectionsTotal'),
      activeConnections: report.activeConnections,
      rejected: total('rejected'),
      connectErrors: total('connectErrors'),
      rejectedByReason: foldReasons(previous, bootId, report.rejectedByReason ?? {}),
      bytesInPerSec: rate(deltas.bytesIn),
      bytesOutPerSec: rate(deltas.bytesOut),
    },
    bootId,
    last,
    lastRejectedByReason: { ...report.rejectedByReason },
  };
  return { state, delta: deltas };
}

/**
 * Folds a stats message of an edge: one new state (with its delta) per report of a known rule,
 * in report order. A rule reported twice is folded twice, the second time against the first.
 */
export function foldStatsReports(fold: StatsFold): FoldedRuleStats[] {
  const states = new Map(fold.known);
  const out: FoldedRuleStats[] = [];
  for (const report of fold.reports) {
    const previous = states.get(report.ruleId);
    if (previous === undefined) continue;
    const next = foldRuleStats(previous, fold.bootId, report, fold.now, fold.since ?? null);
    states.set(report.ruleId, next.state);
    out.push(next);
  }
  return out;
}
