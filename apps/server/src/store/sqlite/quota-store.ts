// Monthly quotas per (user, edge) in SQLite, and the owners' usage each edge reports. Usage is
// folded by delta against owner_usage, in the transaction of the stats report that carries it
// (stats-store.ts), so a server killed at any point has counted each byte once or not yet.

import type { OwnerUsage, QuotaBudget } from '@sluice/protocol';
import { periodAt } from '../../quota-period.ts';
import type { QuotaRecord } from '../records.ts';
import type { QuotaStore } from '../store.ts';
import type { SqliteConnection, SqliteScope } from './sqlite-connection.ts';
import { num, numOrNull, type Row, str } from './sqlite-row.ts';

const SELECT = `SELECT q.*, u.name AS user_name, e.name AS edge_name FROM quotas q
  JOIN users u ON u.id = q.user_id JOIN edges e ON e.id = q.edge_id`;

function toQuota(row: Row): QuotaRecord {
  return {
    userId: str(row.user_id),
    userName: str(row.user_name),
    edgeId: str(row.edge_id),
    edgeName: str(row.edge_name),
    monthlyBytes: num(row.monthly_bytes),
    periodAnchor: num(row.period_anchor),
    periodStart: num(row.period_start),
    periodEnd: num(row.period_end),
    usedBytes: num(row.used_bytes),
    exhaustedAt: numOrNull(row.exhausted_at),
    updatedAt: num(row.updated_at),
  };
}

/** The quota as it stands at `now`: a period that has ended counts nothing yet in the next. */
function current(quota: QuotaRecord, now: number): QuotaRecord {
  if (now < quota.periodEnd) return quota;
  const period = periodAt(quota.periodAnchor, now);
  return { ...quota, periodStart: period.start, periodEnd: period.end, usedBytes: 0, exhaustedAt: null };
}

function save(db: SqliteConnection, quota: QuotaRecord): void {
  db.run(
    `UPDATE quotas SET monthly_bytes = ?, period_anchor = ?, period_start = ?, period_end = ?, used_bytes = ?,
       exhausted_at = ?, updated_at = ? WHERE user_id = ? AND edge_id = ?`,
    quota.monthlyBytes,
    quota.periodAnchor,
    quota.periodStart,
    quota.periodEnd,
    quota.usedBytes,
    quota.exhaustedAt,
    quota.updatedAt,
    quota.userId,
    quota.edgeId,
  );
}

function load(db: SqliteConnection, userId: string, edgeId: string): QuotaRecord | null {
  const row = db.get(`${SELECT} WHERE q.user_id = ? AND q.edge_id = ?`, userId, edgeId);
  return row === undefined ? null : toQuota(row);
}

/** Marks exhaustion when the usage reaches the quota, and clears it when it no longer does. */
function withExhaustion(quota: QuotaRecord, now: number): QuotaRecord {
  const spent = quota.usedBytes >= quota.monthlyBytes;
  return { ...quota, exhaustedAt: spent ? (quota.exhaustedAt ?? now) : null };
}

/**
 * Folds the owners' cumulative usage reported by an edge under `bootId`: the delta to the last
 * report of the same boot (all of it under a new boot) goes to the owner's quota on that edge.
 */
export function foldOwnerUsage(
  db: SqliteConnection,
  edgeId: string,
  bootId: string,
  owners: readonly OwnerUsage[],
): void {
  const now = db.now();
  for (const { owner, bytes } of owners) {
    const last = db.get(
      'SELECT boot_id, bytes FROM owner_usage WHERE edge_id = ? AND owner = ?',
      edgeId,
      owner,
    );
    const before = last !== undefined && str(last.boot_id) === bootId ? num(last.bytes) : 0;
    const delta = bytes >= before ? bytes - before : bytes;
    db.run(
      `INSERT INTO owner_usage (edge_id, owner, boot_id, bytes) VALUES (?, ?, ?, ?)
       ON CONFLICT (edge_id, owner) DO UPDATE SET boot_id = excluded.boot_id, bytes = excluded.bytes`,
      edgeId,
      owner,
      bootId,
      bytes,
    );
    if (delta <= 0) continue;
    const row = db.get(`${SELECT} WHERE u.name = ? AND q.edge_id = ?`, owner, edgeId);
    if (row === undefined) continue;
    const quota = current(toQuota(row), now);
    save(db, withExhaustion({ ...quota, usedBytes: quota.usedBytes + delta }, now));
  }
}

export class SqliteQuotaStore implements QuotaStore {
  private readonly scope: SqliteScope;

  constructor(scope: SqliteScope) {
    this.scope = scope;
  }

  get(userId: string, edgeId: string): Promise<QuotaRecord | null> {
    return this.scope.use((db) => {
      const quota = load(db, userId, edgeId);
      return quota === null ? null : current(quota, db.now());
    });
  }

  list(filter: { userId?: string; edgeId?: string }): Promise<QuotaRecord[]> {
    return this.scope.use((db) => {
      const where: string[] = [];
      const args: string[] = [];
      if (filter.userId !== undefined) {
        where.push('q.user_id = ?');
        args.push(filter.userId);
      }
      if (filter.edgeId !== undefined) {
        where.push('q.edge_id = ?');
        args.push(filter.edgeId);
      }
      const sql = `${SELECT}${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY u.name, e.name`;
      const now = db.now();
      return db.all(sql, ...args).map((row) => current(toQuota(row), now));
    });
  }

  set(userId: string, edgeId: string, monthlyBytes: number, anchor: number): Promise<QuotaRecord> {
    return this.scope.use((db) =>
      db.atomically(() => {
        const now = db.now();
        const period = periodAt(anchor, now);
        const before = load(db, userId, edgeId);
        // The usage stays when the period it counts in is still the one holding now.
        const kept =
          before !== null && before.periodStart === period.start && now < before.periodEnd
            ? before.usedBytes
            : 0;
        db.run(
          `INSERT INTO quotas (user_id, edge_id, monthly_bytes, period_anchor, period_start, period_end, used_bytes,
             updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (user_id, edge_id) DO NOTHING`,
          userId,
          edgeId,
          monthlyBytes,
          anchor,
          period.start,
          period.end,
          kept,
          now,
        );
        const stored = load(db, userId, edgeId)!;
        const next = withExhaustion(
          {
            ...stored,
            monthlyBytes,
            periodAnchor: anchor,
            periodStart: period.start,
            periodEnd: period.end,
            usedBytes: kept,
            exhaustedAt: before !== null && kept > 0 ? before.exhaustedAt : null,
            updatedAt: now,
          },
          now,
        );
        save(db, next);
        return next;
      }),
    );
  }

  clear(userId: string, edgeId: string): Promise<QuotaRecord | null> {
    return this.scope.use((db) =>
      db.atomically(() => {
        const quota = load(db, userId, edgeId);
        if (quota === null) return null;
        const now = db.now();
        const next = { ...current(quota, now), usedBytes: 0, exhaustedAt: null, updatedAt: now };
        save(db, next);
        return next;
      }),
    );
  }

  delete(userId: string, edgeId: string): Promise<boolean> {
    return this.scope.use(
      (db) => db.run('DELETE FROM quotas WHERE user_id = ? AND edge_id = ?', userId, edgeId) > 0,
    );
  }

  rollOver(): Promise<QuotaRecord[]> {
    return this.scope.use((db) =>
      db.atomically(() => {
        const now = db.now();
        const due = db.all(`${SELECT} WHERE q.period_end <= ?`, now).map(toQuota);
        const rolled = due.map((quota) => current(quota, now));
        for (const quota of rolled) save(db, quota);
        return rolled;
      }),
    );
  }

  budgets(edgeId: string, bootId: string | null): Promise<Record<string, QuotaBudget>> {
    return this.scope.use((db) => {
      const now = db.now();
      const budgets: Record<string, QuotaBudget> = {};
      for (const row of db.all(`${SELECT} WHERE q.edge_id = ?`, edgeId)) {
        const quota = current(toQuota(row), now);
        const usage = db.get(
          'SELECT boot_id, bytes FROM owner_usage WHERE edge_id = ? AND owner = ?',
          edgeId,
          quota.userName,
        );
        // In the edge's terms: what it has reported this boot, plus what is left of the quota.
        const base = usage !== undefined && str(usage.boot_id) === bootId ? num(usage.bytes) : 0;
        budgets[quota.userName] = { stopAt: base + Math.max(0, quota.monthlyBytes - quota.usedBytes) };
      }
      return budgets;
    });
  }
}
