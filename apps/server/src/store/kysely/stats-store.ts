// Per-rule stats: the totals and the baseline of the last report (rule_stats), folded by
// fold-stats.ts. A fold locks its edge first: with several servers sharing PostgreSQL, two
// reports of one edge (its session moving from one server to another) must fold one after the
// other, or both would take their delta against the same baseline and count it twice.

import type { OwnerUsage, RuleStats } from '@sluice/protocol';
import type { Selectable } from 'kysely';
import type { RuleStatsTable } from '../database.ts';
import { foldStatsReports, type RuleStatsState } from '../fold-stats.ts';
import type { RuleStatsRecord } from '../records.ts';
import type { LabelledRuleStats, StatsStore } from '../store.ts';
import { KyselyEdgeStore } from './edge-store.ts';
import { foldOwnerUsage } from './quota-store.ts';
import type { StoreContext } from './store-context.ts';
import { addTraffic, pruneIfDue, type TrafficDelta } from './traffic-store.ts';

type StatsRow = Selectable<RuleStatsTable>;

function reasons(json: string): Record<string, number> {
  return JSON.parse(json) as Record<string, number>;
}

function toStats(row: StatsRow): RuleStatsRecord {
  return {
    ruleId: row.rule_id,
    at: Number(row.at),
    bytesIn: Number(row.bytes_in),
    bytesOut: Number(row.bytes_out),
    connectionsTotal: Number(row.connections_total),
    activeConnections: Number(row.active_connections),
    rejected: Number(row.rejected),
    rejectedByReason: reasons(row.rejected_by_reason),
    connectErrors: Number(row.connect_errors),
    bytesInPerSec: Number(row.bytes_in_per_sec),
    bytesOutPerSec: Number(row.bytes_out_per_sec),
  };
}

function toState(row: StatsRow): RuleStatsState {
  return {
    stats: toStats(row),
    bootId: row.boot_id,
    last: {
      bytesIn: Number(row.last_bytes_in),
      bytesOut: Number(row.last_bytes_out),
      connectionsTotal: Number(row.last_connections_total),
      rejected: Number(row.last_rejected),
      connectErrors: Number(row.last_connect_errors),
    },
    lastRejectedByReason: reasons(row.last_rejected_by_reason),
  };
}

/** Rule ids per statement of loadKnown, under either backend's parameter limit. */
const LOAD_BATCH = 500;

/** Rows per upsert of save: 18 parameters each. */
const SAVE_BATCH = 200;

/**
 * The reported rules that are live rules of the edge, each with its stored state, and the owner
 * of each (traffic history records it): one statement per batch of ids, not two per rule.
 */
async function loadKnown(
  ctx: StoreContext,
  edgeId: string,
  reports: readonly RuleStats[],
): Promise<{ known: Map<string, RuleStatsState | null>; owners: Map<string, string> }> {
  const known = new Map<string, RuleStatsState | null>();
  const owners = new Map<string, string>();
  const ids = [...new Set(reports.map((report) => report.ruleId))];
  for (let start = 0; start < ids.length; start += LOAD_BATCH) {
    const rows = await ctx.db
      .selectFrom('rules as r')
      .leftJoin('rule_stats as s', 's.rule_id', 'r.id')
      .selectAll('s')
      .select(['r.id as live_id', 'r.owner as live_owner'])
      .where('r.id', 'in', ids.slice(start, start + LOAD_BATCH))
      .where('r.edge_id', '=', edgeId)
      .where('r.state', '!=', 'removed')
      .execute();
    for (const row of rows) {
      known.set(row.live_id, row.rule_id === null ? null : toState(row as StatsRow));
      owners.set(row.live_id, row.live_owner);
    }
  }
  return { known, owners };
}

function toRow(state: RuleStatsState): StatsRow {
  const { stats, last } = state;
  return {
    rule_id: stats.ruleId,
    at: stats.at,
    bytes_in: stats.bytesIn,
    bytes_out: stats.bytesOut,
    connections_total: stats.connectionsTotal,
    active_connections: stats.activeConnections,
    rejected: stats.rejected,
    connect_errors: stats.connectErrors,
    bytes_in_per_sec: stats.bytesInPerSec,
    bytes_out_per_sec: stats.bytesOutPerSec,
    boot_id: state.bootId,
    last_bytes_in: last.bytesIn,
    last_bytes_out: last.bytesOut,
    last_connections_total: last.connectionsTotal,
    last_rejected: last.rejected,
    last_connect_errors: last.connectErrors,
    rejected_by_reason: JSON.stringify(stats.rejectedByReason),
    last_rejected_by_reason: JSON.stringify(state.lastRejectedByReason),
  };
}

/** Stores the rules' new states, each rule once (one statement may not update a row twice). */
async function save(ctx: StoreContext, states: readonly RuleStatsState[]): Promise<void> {
  const rows = states.map(toRow);
  if (rows.length === 0) return;
  // Every column but the key takes the new row's value.
  const { rule_id: _key, ...sample } = rows[0]!;
  const columns = Object.keys(sample) as (keyof typeof sample)[];
  for (let start = 0; start < rows.length; start += SAVE_BATCH) {
    await ctx.db
      .insertInto('rule_stats')
      .values(rows.slice(start, start + SAVE_BATCH))
      .onConflict((oc) =>
        oc
          .column('rule_id')
          .doUpdateSet((eb) =>
            Object.fromEntries(columns.map((column) => [column, eb.ref(`excluded.${column}`)])),
          ),
      )
      .execute();
  }
}

export class KyselyStatsStore implements StatsStore {
  private readonly ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
  }

  async record(
    edgeId: string,
    bootId: string,
    reports: readonly RuleStats[],
    owners: readonly OwnerUsage[] = [],
    since: number | null = null,
  ): Promise<RuleStatsRecord[]> {
    const recorded = await this.ctx.atomically(async (ctx) => {
      await new KyselyEdgeStore(ctx).lock(edgeId);
      const { known, owners: ruleOwners } = await loadKnown(ctx, edgeId, reports);
      const now = ctx.now();
      const folded = foldStatsReports({ bootId, now, since, reports, known });
      // A rule reported twice in one report: its last state, and the sum of its deltas.
      const states = new Map<string, RuleStatsState>();
      const deltas = new Map<string, TrafficDelta>();
      for (const { state, delta } of folded) {
        const ruleId = state.stats.ruleId;
        states.set(ruleId, state);
        const before = deltas.get(ruleId);
        deltas.set(ruleId, {
          ruleId,
          edgeId,
          owner: ruleOwners.get(ruleId)!,
          bytesIn: (before?.bytesIn ?? 0) + delta.bytesIn,
          bytesOut: (before?.bytesOut ?? 0) + delta.bytesOut,
        });
      }
      await save(ctx, [...states.values()]);
      await addTraffic(ctx, [...deltas.values()], now);
      await foldOwnerUsage(ctx, edgeId, bootId, owners);
      return folded.map(({ state }) => state.stats);
    });
    // After the fold's commit: expired history goes in its own bounded transaction.
    await pruneIfDue(this.ctx);
    return recorded;
  }

  async get(ruleId: string): Promise<RuleStatsRecord | null> {
    const row = await this.ctx.db
      .selectFrom('rule_stats')
      .selectAll()
      .where('rule_id', '=', ruleId)
      .executeTakeFirst();
    return row === undefined ? null : toStats(row);
  }

  async all(): Promise<LabelledRuleStats[]> {
    const rows = await this.ctx.db
      .selectFrom('rule_stats as s')
      .innerJoin('rules as r', 'r.id', 's.rule_id')
      .innerJoin('edges as e', 'e.id', 'r.edge_id')
      .selectAll('s')
      .select(['r.name as rule_name', 'r.owner', 'e.name as edge_name'])
      .where('r.state', '!=', 'removed')
      .execute();
    return rows.map((row) => ({
      ...toStats(row),
      edgeName: row.edge_name,
      ruleName: row.rule_name,
      owner: row.owner,
    }));
  }
}
