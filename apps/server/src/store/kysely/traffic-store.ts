// Traffic history: one row per (width, rule, bucket start) with the rule's edge and owner at the
// time, so history stays queryable by edge and owner after the rule is gone. addTraffic runs
// inside StatsStore.record's transaction; pruning deletes expired buckets a bounded batch at a
// time, at most once a minute per store unless a batch was full.

import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { TRAFFIC_BUCKETS } from '@sluice/api';
import { sql } from 'kysely';
import type { TrafficFilter, TrafficRuleRef, TrafficSampleRecord, TrafficStore } from '../store.ts';
import { bucketStart, TRAFFIC_BUCKET_KINDS } from '../traffic-buckets.ts';
import type { StoreContext } from './store-context.ts';

/** Rows deleted per width by one prune. */
export const PRUNE_BATCH = 5000;
const PRUNE_EVERY_MS = 60_000;

/** One rule's bytes of one report, with where they were recorded. */
export interface TrafficDelta {
  readonly ruleId: string;
  readonly edgeId: string;
  readonly owner: string;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/** Rows per INSERT: 7 parameters each, well under either backend's limit. */
const ADD_BATCH = 500;

/**
 * Adds the rules' bytes of one report to the bucket of each width that holds `now`, a few
 * statements for the whole report rather than two per rule (a round trip each on PostgreSQL).
 * Each rule appears once in `deltas`: one statement may not update a row twice.
 */
export async function addTraffic(
  ctx: StoreContext,
  deltas: readonly TrafficDelta[],
  now: number,
): Promise<void> {
  const moved = deltas.filter((delta) => delta.bytesIn !== 0 || delta.bytesOut !== 0);
  for (const { widthMs } of TRAFFIC_BUCKET_KINDS) {
    for (let start = 0; start < moved.length; start += ADD_BATCH) {
      const rows = moved.slice(start, start + ADD_BATCH).map((delta) => ({
        width: widthMs,
        at: bucketStart(now, widthMs),
        rule_id: delta.ruleId,
        edge_id: delta.edgeId,
        owner: delta.owner,
        bytes_in: delta.bytesIn,
        bytes_out: delta.bytesOut,
      }));
      await ctx.db
        .insertInto('traffic')
        .values(rows)
        .onConflict((oc) =>
          oc.columns(['width', 'rule_id', 'at']).doUpdateSet((eb) => ({
            bytes_in: eb('traffic.bytes_in', '+', eb.ref('excluded.bytes_in')),
            bytes_out: eb('traffic.bytes_out', '+', eb.ref('excluded.bytes_out')),
            edge_id: eb.ref('excluded.edge_id'),
            owner: eb.ref('excluded.owner'),
          })),
        )
        .execute();
    }
  }
}

async function prune(ctx: StoreContext, limit: number): Promise<{ deleted: number; full: boolean }> {
  let deleted = 0;
  let full = false;
  const now = ctx.now();
  // A bounded DELETE needs the rows' physical ids: rowid in SQLite, ctid in PostgreSQL.
  const rowId = sql.raw(ctx.postgres ? 'ctid' : 'rowid');
  for (const { widthMs, keepMs } of TRAFFIC_BUCKET_KINDS) {
    const result = await sql`DELETE FROM traffic WHERE ${rowId} IN
      (SELECT ${rowId} FROM traffic WHERE width = ${widthMs} AND at < ${now - keepMs} ORDER BY at LIMIT ${limit})`.execute(
      ctx.db,
    );
    const gone = Number(result.numAffectedRows ?? 0n);
    deleted += gone;
    if (gone >= limit) full = true;
  }
  return { deleted, full };
}

/** Prunes when a minute has passed since the last prune, or the last one left rows behind. */
export async function pruneIfDue(ctx: StoreContext): Promise<void> {
  const now = ctx.now();
  const last = ctx.state.lastPruneAt;
  if (last !== undefined && now - last < PRUNE_EVERY_MS) return;
  const { full } = await ctx.atomically((inner) => prune(inner, PRUNE_BATCH));
  // A full batch: more is expired than one batch took; go on at the next report.
  ctx.state.lastPruneAt = full ? Number.NEGATIVE_INFINITY : now;
}

/** Buckets per statement of a query: 120k index rows for 1000 rules, some 10 ms. */
const QUERY_SLICE_BUCKETS = 120;

async function querySlice(ctx: StoreContext, filter: TrafficFilter): Promise<TrafficSampleRecord[]> {
  // Each shape compiles to its own text so the planner picks its index (rule: the primary key;
  // edge, owner, none: traffic_edge, traffic_owner, traffic_at). A rule's and an edge's queries
  // add the owner for a user, who sees only its own rules.
  const { ruleId, edgeId, owner } = filter;
  const rows = await ctx.db
    .selectFrom('traffic')
    .select((eb) => [
      'at',
      eb.fn.sum<number>('bytes_in').as('bytes_in'),
      eb.fn.sum<number>('bytes_out').as('bytes_out'),
    ])
    .$if(ruleId !== undefined, (q) => q.where('rule_id', '=', ruleId!))
    .$if(ruleId === undefined && edgeId !== undefined, (q) => q.where('edge_id', '=', edgeId!))
    .$if(ruleId === undefined && edgeId === undefined && owner !== undefined, (q) =>
      q.where('owner', '=', owner!),
    )
    .where('width', '=', filter.widthMs)
    .where('at', '>=', filter.from)
    .where('at', '<', filter.to)
    .$if((ruleId !== undefined || edgeId !== undefined) && owner !== undefined, (q) =>
      q.where('owner', '=', owner!),
    )
    .groupBy('at')
    .orderBy('at')
    .execute();
  return rows.map((row) => ({
    at: Number(row.at),
    bytesIn: Number(row.bytes_in),
    bytesOut: Number(row.bytes_out),
  }));
}

export class KyselyTrafficStore implements TrafficStore {
  private readonly ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
  }

  async query(filter: TrafficFilter): Promise<TrafficSampleRecord[]> {
    // A slice of the range at a time, each its own statement: a long query lets the event loop
    // and other callers' statements in between, instead of holding both. Each slice starts at
    // the next bucket with any rows, so a range that is mostly empty costs an index seek per
    // stretch with rows, not a statement per empty slice.
    const samples: TrafficSampleRecord[] = [];
    const step = QUERY_SLICE_BUCKETS * filter.widthMs;
    let cursor = filter.from;
    while (cursor < filter.to) {
      const next = await this.ctx.db
        .selectFrom('traffic')
        .select('at')
        .where('width', '=', filter.widthMs)
        .where('at', '>=', cursor)
        .where('at', '<', filter.to)
        .orderBy('at')
        .limit(1)
        .executeTakeFirst();
      if (next === undefined) break;
      const from = Number(next.at);
      const to = Math.min(filter.to, from + step);
      samples.push(...(await querySlice(this.ctx, { ...filter, from, to })));
      cursor = to;
      // A macrotask turn: sockets (edge sessions, other requests) are served between slices.
      if (cursor < filter.to) await yieldToEventLoop();
    }
    return samples;
  }

  async ruleRef(ruleId: string): Promise<TrafficRuleRef | null> {
    // Every report writes a bucket of each width, and the 1-hour ones are kept longest.
    const row = await this.ctx.db
      .selectFrom('traffic')
      .select(['edge_id', 'owner'])
      .where('width', '=', TRAFFIC_BUCKETS['1h'])
      .where('rule_id', '=', ruleId)
      .orderBy('at', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row === undefined ? null : { edgeId: row.edge_id, owner: row.owner };
  }

  async prune(limit = PRUNE_BATCH): Promise<number> {
    return (await this.ctx.atomically((ctx) => prune(ctx, limit))).deleted;
  }
}
