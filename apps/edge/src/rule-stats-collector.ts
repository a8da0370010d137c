// Cumulative per-rule counters for `stats`, by rule id, since this process started. The data
// plane counts per counter slot, and a rule id can move between slots (a new listen rebinds into a
// new slot, while the old one drains; a removed and re-pushed rule gets a fresh slot). So the
// counts of a slot the rule no longer holds are folded into a base kept per id, and what is sent
// never goes down while the bootId stays the same. Sums per rule are the same as metrics.ts json().
//
// collect() runs every second (the state file) and every stats interval, over every rule. A slot
// whose words did not change since the last collect is not read again (SlotChanges), and a rule
// none of whose counts moved gets the same RuleStats object as last time: 10,000 idle rules cost
// a compare of their words, not 10,000 readings.

import type { ShardSupervisor } from '@sluice/core';
import {
  CONNECT_ERROR_REASONS,
  connectErrorField,
  FIELD,
  REJECT_REASONS,
  rejectField,
  SlotChanges,
} from '@sluice/core';
import type { RuleStats } from '@sluice/protocol';

const COUNTED = [
  'bytesIn',
  'bytesOut',
  'connectionsTotal',
  'rejected',
  'connectErrors',
] as const satisfies readonly (keyof RuleStats)[];

/**
 * A RuleStats' cumulative counters (activeConnections is a level, so it is not summed), and
 * its rejects by reason (only reasons seen).
 */
export type Totals = { -readonly [K in (typeof COUNTED)[number]]: RuleStats[K] } & {
  rejectedByReason?: Record<string, number>;
};

function zero(): Totals {
  return {
    bytesIn: 0,
    bytesOut: 0,
    connectionsTotal: 0,
    rejected: 0,
    connectErrors: 0,
    rejectedByReason: {},
  };
}

function add(into: Totals, from: Totals): void {
  for (const key of COUNTED) into[key] += from[key];
  into.rejectedByReason ??= {};
  const reasons = into.rejectedByReason;
  for (const [reason, n] of Object.entries(from.rejectedByReason ?? {}))
    reasons[reason] = (reasons[reason] ?? 0) + n;
}

export class RuleStatsCollector {
  private readonly supervisor: ShardSupervisor;
  /** Per rule id: what slots it no longer holds had counted. */
  private readonly bases = new Map<string, Totals>();
  /** Per rule id, per slot it holds: that slot's counts and open connections when last read. */
  private readonly slots = new Map<string, Map<number, { totals: Totals; active: number }>>();
  /** Per rule id: the counts of the edge this one took over from, as it last handed them on. */
  private carried = new Map<string, Totals>();
  private readonly changes: SlotChanges;
  /** Per rule id: what the last collect gave, given again while none of its counts moved. */
  private results = new Map<string, RuleStats>();
  /**
   * Counts the collects that found any rule's cumulative counts changed (a new rule at zero is
   * no change): a reader that saw this number before sees it changed when there is something
   * new to save.
   */
  generation = 0;

  /** `restored`: each rule's counters when the last process of this boot stopped (edge-state-file.ts). */
  constructor(supervisor: ShardSupervisor, restored: Readonly<Record<string, Totals>> = {}) {
    this.supervisor = supervisor;
    this.changes = new SlotChanges(supervisor.counters);
    for (const [id, totals] of Object.entries(restored)) {
      this.bases.set(id, { ...totals, rejectedByReason: { ...totals.rejectedByReason } });
    }
  }

  /**
   * The old edge's counters after a hand-over: cumulative, so each call replaces the last, and
   * what is sent (the old edge's counts plus this one's) never goes down.
   */
  carry(rules: Readonly<Record<string, Totals>>): void {
    this.carried = new Map(Object.entries(rules));
    this.results.clear();
  }

  /** Stats for each of `ids`; `idsByName` maps the data plane's rule names to ids. */
  collect(ids: readonly string[], idsByName: ReadonlyMap<string, string>): RuleStats[] {
    const held = new Map<string, number[]>();
    for (const rule of this.supervisor.ruleSlots()) {
      const id = idsByName.get(rule.name);
      if (id === undefined) continue;
      const list = held.get(id) ?? [];
      list.push(rule.slot);
      held.set(id, list);
    }
    /** Rules whose counts moved, or that left or took a slot: their result is made anew. */
    const moved = new Set<string>();
    for (const [id, readings] of this.slots) {
      const now = new Set(held.get(id) ?? []);
      for (const [slot, last] of readings) {
        if (now.has(slot)) continue;
        this.fold(id, last.totals);
        readings.delete(slot);
        moved.add(id);
      }
    }
    for (const [id, list] of held) {
      const readings = this.slots.get(id) ?? new Map<number, { totals: Totals; active: number }>();
      this.slots.set(id, readings);
      for (const slot of list) {
        const last = readings.get(slot);
        if (!this.changes.moved(slot) && last !== undefined) continue;
        moved.add(id);
        const reading = this.read(slot);
        // A count that went down means the slot was released and taken again in between.
        if (last !== undefined && COUNTED.some((key) => reading.totals[key] < last.totals[key])) {
          this.fold(id, last.totals);
        }
        readings.set(slot, reading);
      }
    }
    const results = new Map<string, RuleStats>();
    let counted = false;
    const stats = ids.map((ruleId) => {
      const last = this.results.get(ruleId);
      let result = last;
      if (result === undefined || moved.has(ruleId)) {
        const total = zero();
        add(total, this.bases.get(ruleId) ?? zero());
        add(total, this.carried.get(ruleId) ?? zero());
        let active = 0;
        for (const reading of this.slots.get(ruleId)?.values() ?? []) {
          add(total, reading.totals);
          active += reading.active;
        }
        result = { ruleId, ...total, activeConnections: active };
        counted ||= COUNTED.some((key) => result![key] !== (last?.[key] ?? 0));
      }
      results.set(ruleId, result);
      return result;
    });
    this.results = results;
    if (counted) this.generation++;
    return stats;
  }

  private fold(id: string, totals: Totals): void {
    const base = this.bases.get(id) ?? zero();
    add(base, totals);
    this.bases.set(id, base);
  }

  private read(slot: number): { totals: Totals; active: number } {
    const sum = (field: number): number => Number(this.supervisor.counters.sum(slot, field));
    const rejectedByReason: Record<string, number> = {};
    for (const reason of REJECT_REASONS) {
      const n = sum(rejectField(reason));
      if (n > 0) rejectedByReason[reason] = n;
    }
    const totals: Totals = {
      bytesIn: sum(FIELD.BYTES_IN),
      bytesOut: sum(FIELD.BYTES_OUT),
      connectionsTotal: sum(FIELD.TOTAL),
      rejected: Object.values(rejectedByReason).reduce((n, count) => n + count, 0),
      rejectedByReason,
      connectErrors: CONNECT_ERROR_REASONS.reduce((n, reason) => n + sum(connectErrorField(reason)), 0),
    };
    // Open connections, and open flows for UDP.
    return { totals, active: sum(FIELD.ACTIVE) + sum(FIELD.ACTIVE_FLOWS) };
  }
}
