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
import { addTraffic, pruneIfDue } from './traffic-store.ts';

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

/**
 * The reported rules that are live rules of the edge, each with its stored state, and the owner
 * of each (traffic history records it).
 */
async function loadKnown(
  ctx: StoreContext,
  edgeId: string,
  reports: readonly RuleStats[],
): Promise<{ known: Map<string, RuleStatsState | null>; owners: Map<string, string> }> {
  const known = new Map<string, RuleStatsState | null>();
  const owners = new Map<string, string>();
  for (const { ruleId } of reports) {
    if (known.has(ruleId)) continue;
    const owned = await ctx.db
      .selectFrom('rules')
      .select('owner')
      .where('id', '=', ruleId)
      .where('edge_id', '=', edgeId)
      .where('state', '!=', 'removed')
      .executeTakeFirst();
    if (owned === undefined) continue;
    const row = await ctx.db
      .selectFrom('rule_stats')
      .selectAll()
      .where('rule_id', '=', ruleId)
      .executeTakeFirst();
    known.set(ruleId, row === undefined ? null : toState(row));
    owners.set(ruleId, owned.owner);
  }
  return { known, owners };
}

async function save(ctx: StoreContext, state: RuleStatsState): Promise<void> {
  const { stats, last } = state;
  const row: StatsRow = {
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
  const { rule_id: _key, ...update } = row;
  await ctx.db
    .insertInto('rule_stats')
    .values(row)
    .onConflict((oc) => oc.column('rule_id').doUpdateSet(update))
    .execute();
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
  ): Promise<RuleStatsRecord[]> {
    const recorded = await this.ctx.atomically(async (ctx) => {
      await new KyselyEdgeStore(ctx).lock(edgeId);
      const { known, owners: ruleOwners } = await loadKnown(ctx, edgeId, reports);
      const now = ctx.now();
      const folded = foldStatsReports({ bootId, now, reports, known });
      for (const { state, delta } of folded) {
        await save(ctx, state);
        const rule = { ruleId: state.stats.ruleId, edgeId, owner: ruleOwners.get(state.stats.ruleId)! };
        await addTraffic(ctx, rule, delta.bytesIn, delta.bytesOut, now);
      }
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
