// Monthly quotas per (user, edge), and the owners' usage each edge reports. Usage is folded by
// delta against owner_usage, in the transaction of the stats report that carries it
// (stats-store.ts), so a server killed at any point has counted each byte once or not yet. Every
// read of a quota that a write depends on locks its row on PostgreSQL: a fold on one server and
// an operator's change on another must not overwrite each other.

import type { OwnerUsage, QuotaBudget } from '@sluice/protocol';
import type { Selectable } from 'kysely';
import { periodAt } from '../../quota-period.ts';
import type { QuotasTable } from '../database.ts';
import type { QuotaRecord } from '../records.ts';
import type { QuotaStore } from '../store.ts';
import { changed, type StoreContext } from './store-context.ts';

function toQuota(row: Selectable<QuotasTable> & { user_name: string; edge_name: string }): QuotaRecord {
  return {
    userId: row.user_id,
    userName: row.user_name,
    edgeId: row.edge_id,
    edgeName: row.edge_name,
    monthlyBytes: Number(row.monthly_bytes),
    periodAnchor: Number(row.period_anchor),
    periodStart: Number(row.period_start),
    periodEnd: Number(row.period_end),
    usedBytes: Number(row.used_bytes),
    exhaustedAt: row.exhausted_at === null ? null : Number(row.exhausted_at),
    updatedAt: Number(row.updated_at),
  };
}

/** Quotas with their user's and edge's names; `lock` locks the quota rows read (PostgreSQL). */
function quotas(ctx: StoreContext, lock = false) {
  return ctx.db
    .selectFrom('quotas as q')
    .innerJoin('users as u', 'u.id', 'q.user_id')
    .innerJoin('edges as e', 'e.id', 'q.edge_id')
    .selectAll('q')
    .select(['u.name as user_name', 'e.name as edge_name'])
    .$if(lock && ctx.postgres, (q) => q.forUpdate('q'));
}

/** The quota as it stands at `now`: a period that has ended counts nothing yet in the next. */
function current(quota: QuotaRecord, now: number): QuotaRecord {
  if (now < quota.periodEnd) return quota;
  const period = periodAt(quota.periodAnchor, now);
  return { ...quota, periodStart: period.start, periodEnd: period.end, usedBytes: 0, exhaustedAt: null };
}

async function save(ctx: StoreContext, quota: QuotaRecord): Promise<void> {
  await ctx.db
    .updateTable('quotas')
    .set({
      monthly_bytes: quota.monthlyBytes,
      period_anchor: quota.periodAnchor,
      period_start: quota.periodStart,
      period_end: quota.periodEnd,
      used_bytes: quota.usedBytes,
      exhausted_at: quota.exhaustedAt,
      updated_at: quota.updatedAt,
    })
    .where('user_id', '=', quota.userId)
    .where('edge_id', '=', quota.edgeId)
    .execute();
}

async function load(
  ctx: StoreContext,
  userId: string,
  edgeId: string,
  lock = false,
): Promise<QuotaRecord | null> {
  const row = await quotas(ctx, lock)
    .where('q.user_id', '=', userId)
    .where('q.edge_id', '=', edgeId)
    .executeTakeFirst();
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
 * Runs in the fold's transaction, which holds the edge's lock.
 */
export async function foldOwnerUsage(
  ctx: StoreContext,
  edgeId: string,
  bootId: string,
  owners: readonly OwnerUsage[],
): Promise<void> {
  const now = ctx.now();
  for (const { owner, bytes } of owners) {
    const last = await ctx.db
      .selectFrom('owner_usage')
      .select(['boot_id', 'bytes'])
      .where('edge_id', '=', edgeId)
      .where('owner', '=', owner)
      .executeTakeFirst();
    const before = last !== undefined && last.boot_id === bootId ? Number(last.bytes) : 0;
    const delta = bytes >= before ? bytes - before : bytes;
    await ctx.db
      .insertInto('owner_usage')
      .values({ edge_id: edgeId, owner, boot_id: bootId, bytes })
      .onConflict((oc) =>
        oc.columns(['edge_id', 'owner']).doUpdateSet((eb) => ({
          boot_id: eb.ref('excluded.boot_id'),
          bytes: eb.ref('excluded.bytes'),
        })),
      )
      .execute();
    if (delta <= 0) continue;
    const row = await quotas(ctx, true)
      .where('u.name', '=', owner)
      .where('q.edge_id', '=', edgeId)
      .executeTakeFirst();
    if (row === undefined) continue;
    const quota = current(toQuota(row), now);
    await save(ctx, withExhaustion({ ...quota, usedBytes: quota.usedBytes + delta }, now));
  }
}

export class KyselyQuotaStore implements QuotaStore {
  private readonly ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
  }

  async get(userId: string, edgeId: string): Promise<QuotaRecord | null> {
    const quota = await load(this.ctx, userId, edgeId);
    return quota === null ? null : current(quota, this.ctx.now());
  }

  async list(filter: { userId?: string; edgeId?: string }): Promise<QuotaRecord[]> {
    const { userId, edgeId } = filter;
    const rows = await quotas(this.ctx)
      .$if(userId !== undefined, (q) => q.where('q.user_id', '=', userId!))
      .$if(edgeId !== undefined, (q) => q.where('q.edge_id', '=', edgeId!))
      .orderBy('u.name')
      .orderBy('e.name')
      .execute();
    const now = this.ctx.now();
    return rows.map((row) => current(toQuota(row), now));
  }

  set(userId: string, edgeId: string, monthlyBytes: number, anchor: number): Promise<QuotaRecord> {
    return this.ctx.atomically(async (ctx) => {
      const now = ctx.now();
      const period = periodAt(anchor, now);
      // Inserted first (if new), so there is always a row to lock before reading it.
      await ctx.db
        .insertInto('quotas')
        .values({
          user_id: userId,
          edge_id: edgeId,
          monthly_bytes: monthlyBytes,
          period_anchor: anchor,
          period_start: period.start,
          period_end: period.end,
          used_bytes: 0,
          updated_at: now,
        })
        .onConflict((oc) => oc.columns(['user_id', 'edge_id']).doNothing())
        .execute();
      const stored = (await load(ctx, userId, edgeId, true))!;
      // The usage stays when the period it counts in is still the one holding now.
      const kept = stored.periodStart === period.start && now < stored.periodEnd ? stored.usedBytes : 0;
      const next = withExhaustion(
        {
          ...stored,
          monthlyBytes,
          periodAnchor: anchor,
          periodStart: period.start,
          periodEnd: period.end,
          usedBytes: kept,
          exhaustedAt: kept > 0 ? stored.exhaustedAt : null,
          updatedAt: now,
        },
        now,
      );
      await save(ctx, next);
      return next;
    });
  }

  clear(userId: string, edgeId: string): Promise<QuotaRecord | null> {
    return this.ctx.atomically(async (ctx) => {
      const quota = await load(ctx, userId, edgeId, true);
      if (quota === null) return null;
      const now = ctx.now();
      const next = { ...current(quota, now), usedBytes: 0, exhaustedAt: null, updatedAt: now };
      await save(ctx, next);
      return next;
    });
  }

  async delete(userId: string, edgeId: string): Promise<boolean> {
    const result = await this.ctx.db
      .deleteFrom('quotas')
      .where('user_id', '=', userId)
      .where('edge_id', '=', edgeId)
      .executeTakeFirst();
    return changed(result) > 0;
  }

  rollOver(): Promise<QuotaRecord[]> {
    return this.ctx.atomically(async (ctx) => {
      const now = ctx.now();
      const due = await quotas(ctx, true).where('q.period_end', '<=', now).execute();
      const rolled = due.map((row) => current(toQuota(row), now));
      for (const quota of rolled) await save(ctx, quota);
      return rolled;
    });
  }

  async budgets(edgeId: string, bootId: string | null): Promise<Record<string, QuotaBudget>> {
    const now = this.ctx.now();
    const budgets: Record<string, QuotaBudget> = {};
    const rows = await quotas(this.ctx).where('q.edge_id', '=', edgeId).execute();
    for (const row of rows) {
      const quota = current(toQuota(row), now);
      const usage = await this.ctx.db
        .selectFrom('owner_usage')
        .select(['boot_id', 'bytes'])
        .where('edge_id', '=', edgeId)
        .where('owner', '=', quota.userName)
        .executeTakeFirst();
      // In the edge's terms: what it has reported this boot, plus what is left of the quota.
      const base = usage !== undefined && usage.boot_id === bootId ? Number(usage.bytes) : 0;
      budgets[quota.userName] = { stopAt: base + Math.max(0, quota.monthlyBytes - quota.usedBytes) };
    }
    return budgets;
  }
}
