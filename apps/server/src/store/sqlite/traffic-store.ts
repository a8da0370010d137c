// Traffic history in SQLite: one row per (width, rule, bucket start) with the rule's edge and
// owner at the time, so history stays queryable by edge and owner after the rule is gone.
// addTraffic runs inside StatsStore.record's transaction; pruning deletes expired buckets a
// bounded batch at a time, at most once a minute per connection unless a batch was full.

import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { TRAFFIC_BUCKETS } from '@sluice/api';
import type { TrafficFilter, TrafficRuleRef, TrafficSampleRecord, TrafficStore } from '../store.ts';
import { bucketStart, TRAFFIC_BUCKET_KINDS } from '../traffic-buckets.ts';
import type { SqliteConnection, SqliteScope } from './sqlite-connection.ts';
import { num, type Row, str } from './sqlite-row.ts';

/** Rows deleted per width by one prune. */
export const PRUNE_BATCH = 5000;
const PRUNE_EVERY_MS = 60_000;

/** When each connection last pruned; absent: never (prune at the first chance). */
const lastPrune = new WeakMap<SqliteConnection, number>();

/** Adds one rule's bytes of one report to the bucket of each width that holds `now`. */
export function addTraffic(
  db: SqliteConnection,
  rule: { readonly ruleId: string; readonly edgeId: string; readonly owner: string },
  bytesIn: number,
  bytesOut: number,
  now: number,
): void {
  if (bytesIn === 0 && bytesOut === 0) return;
  for (const { widthMs } of TRAFFIC_BUCKET_KINDS) {
    db.run(
      `INSERT INTO traffic (width, at, rule_id, edge_id, owner, bytes_in, bytes_out) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (width, rule_id, at) DO UPDATE SET bytes_in = bytes_in + excluded.bytes_in,
         bytes_out = bytes_out + excluded.bytes_out, edge_id = excluded.edge_id, owner = excluded.owner`,
      widthMs,
      bucketStart(now, widthMs),
      rule.ruleId,
      rule.edgeId,
      rule.owner,
      bytesIn,
      bytesOut,
    );
  }
}

function prune(db: SqliteConnection, limit: number): { deleted: number; full: boolean } {
  let deleted = 0;
  let full = false;
  const now = db.now();
  for (const { widthMs, keepMs } of TRAFFIC_BUCKET_KINDS) {
    const gone = db.run(
      `DELETE FROM traffic WHERE rowid IN
         (SELECT rowid FROM traffic WHERE width = ? AND at < ? ORDER BY at LIMIT ?)`,
      widthMs,
      now - keepMs,
      limit,
    );
    deleted += gone;
    if (gone >= limit) full = true;
  }
  return { deleted, full };
}

/** Prunes when a minute has passed since the last prune, or the last one left rows behind. */
export function pruneIfDue(db: SqliteConnection): void {
  const now = db.now();
  const last = lastPrune.get(db);
  if (last !== undefined && now - last < PRUNE_EVERY_MS) return;
  const { full } = db.atomically(() => prune(db, PRUNE_BATCH));
  // A full batch: more is expired than one batch took; go on at the next report.
  lastPrune.set(db, full ? Number.NEGATIVE_INFINITY : now);
}

/** Buckets per statement of a query: 120k index rows for 1000 rules, some 10 ms. */
const QUERY_SLICE_BUCKETS = 120;

const SUMS = 'SELECT at, SUM(bytes_in) AS bytes_in, SUM(bytes_out) AS bytes_out FROM traffic';
const RANGE = 'width = ? AND at >= ? AND at < ?';

function querySlice(db: SqliteConnection, filter: TrafficFilter): TrafficSampleRecord[] {
  const range = [filter.widthMs, filter.from, filter.to] as const;
  // Each shape has its own text so SQLite plans it for its index (rule: the primary key; edge,
  // owner, none: traffic_edge, traffic_owner, traffic_at). A rule's and an edge's queries add
  // the owner for a user, who sees only its own rules.
  const owner = filter.owner;
  let rows: Row[];
  if (filter.ruleId !== undefined) {
    rows =
      owner === undefined
        ? db.all(`${SUMS} WHERE rule_id = ? AND ${RANGE} GROUP BY at ORDER BY at`, filter.ruleId, ...range)
        : db.all(
            `${SUMS} WHERE rule_id = ? AND ${RANGE} AND owner = ? GROUP BY at ORDER BY at`,
            filter.ruleId,
            ...range,
            owner,
          );
  } else if (filter.edgeId !== undefined) {
    rows =
      owner === undefined
        ? db.all(`${SUMS} WHERE edge_id = ? AND ${RANGE} GROUP BY at ORDER BY at`, filter.edgeId, ...range)
        : db.all(
            `${SUMS} WHERE edge_id = ? AND ${RANGE} AND owner = ? GROUP BY at ORDER BY at`,
            filter.edgeId,
            ...range,
            owner,
          );
  } else if (owner !== undefined) {
    rows = db.all(`${SUMS} WHERE owner = ? AND ${RANGE} GROUP BY at ORDER BY at`, owner, ...range);
  } else {
    rows = db.all(`${SUMS} WHERE ${RANGE} GROUP BY at ORDER BY at`, ...range);
  }
  return rows.map((row) => ({ at: num(row.at), bytesIn: num(row.bytes_in), bytesOut: num(row.bytes_out) }));
}

export class SqliteTrafficStore implements TrafficStore {
  private readonly scope: SqliteScope;

  constructor(scope: SqliteScope) {
    this.scope = scope;
  }

  async query(filter: TrafficFilter): Promise<TrafficSampleRecord[]> {
    // A slice of the range at a time, each its own turn on the connection: a long query lets
    // the event loop and other callers' statements in between, instead of holding both.
    // Each slice starts at the next bucket with any rows, so a range that is mostly empty
    // costs an index seek per stretch with rows, not a statement per empty slice.
    const samples: TrafficSampleRecord[] = [];
    const step = QUERY_SLICE_BUCKETS * filter.widthMs;
    let cursor = filter.from;
    while (cursor < filter.to) {
      const slice = await this.scope.use((db) => {
        const next = db.get(
          'SELECT at FROM traffic WHERE width = ? AND at >= ? AND at < ? ORDER BY at LIMIT 1',
          filter.widthMs,
          cursor,
          filter.to,
        );
        if (next === undefined) return null;
        const from = num(next.at);
        const to = Math.min(filter.to, from + step);
        return { to, rows: querySlice(db, { ...filter, from, to }) };
      });
      if (slice === null) break;
      samples.push(...slice.rows);
      cursor = slice.to;
      // A macrotask turn: sockets (edge sessions, other requests) are served between slices.
      if (cursor < filter.to) await yieldToEventLoop();
    }
    return samples;
  }

  ruleRef(ruleId: string): Promise<TrafficRuleRef | null> {
    return this.scope.use((db) => {
      // Every report writes a bucket of each width, and the 1-hour ones are kept longest.
      const row = db.get(
        'SELECT edge_id, owner FROM traffic WHERE width = ? AND rule_id = ? ORDER BY at DESC LIMIT 1',
        TRAFFIC_BUCKETS['1h'],
        ruleId,
      );
      return row === undefined ? null : { edgeId: str(row.edge_id), owner: str(row.owner) };
    });
  }

  prune(limit = PRUNE_BATCH): Promise<number> {
    return this.scope.use((db) => db.atomically(() => prune(db, limit).deleted));
  }
}
