// Edges and their one-time enrollment codes. Codes and edge secrets are stored as their hash
// only.

import type { Selectable } from 'kysely';
import type { EdgesTable } from '../database.ts';
import type { EdgeRecord, EnrollmentRecord, Redemption } from '../records.ts';
import { hashSecret, newId, newSecret, secretMatches } from '../secrets.ts';
import type { EdgeStore } from '../store.ts';
import { PreparedQuery } from './prepared-query.ts';
import type { StoreContext } from './store-context.ts';
import { isUniqueViolation } from './unique-violation.ts';

const SECRET_PREFIX = 'sls_';

type EdgeRow = Selectable<EdgesTable>;

function toEdge(row: EdgeRow): EdgeRecord {
  const orNull = (value: number | null) => (value === null ? null : Number(value));
  return {
    id: row.id,
    name: row.name,
    version: orNull(row.version),
    createdAt: Number(row.created_at),
    enrolledAt: orNull(row.enrolled_at),
    lastSeenAt: orNull(row.last_seen_at),
    revokedAt: orNull(row.revoked_at),
  };
}

/** An edge by id and by name: each API call on an edge looks it up by one or both. */
const EDGE_BY = {
  id: new PreparedQuery((db, a: { value: string }) =>
    db.selectFrom('edges').selectAll().where('id', '=', a.value),
  ),
  name: new PreparedQuery((db, a: { value: string }) =>
    db.selectFrom('edges').selectAll().where('name', '=', a.value),
  ),
};

async function edgeWhere(
  ctx: StoreContext,
  column: 'id' | 'name',
  value: string,
): Promise<EdgeRecord | null> {
  const row = await EDGE_BY[column].first(ctx, { value });
  return row === undefined ? null : toEdge(row);
}

/** Why a code that the redeeming UPDATE did not take was refused. */
async function refusal(ctx: StoreContext, codeHash: string, now: number): Promise<Redemption> {
  const row = await ctx.db
    .selectFrom('enrollments')
    .select(['used_at', 'superseded_at', 'expires_at'])
    .where('code_hash', '=', codeHash)
    .executeTakeFirst();
  if (row === undefined) return { ok: false, code: 'code_unknown', message: 'no such enrollment code' };
  if (row.used_at !== null) {
    return {
      ok: false,
      code: 'code_used',
      message: `the code was used at ${new Date(Number(row.used_at)).toISOString()}`,
    };
  }
  if (row.superseded_at !== null) {
    return {
      ok: false,
      code: 'code_superseded',
      message: 'a newer code was made for this edge; use that one',
    };
  }
  const expiresAt = Number(row.expires_at);
  if (expiresAt <= now) {
    return {
      ok: false,
      code: 'code_expired',
      message: `the code expired at ${new Date(expiresAt).toISOString()}`,
    };
  }
  // Taken between the UPDATE and this read by another redeemer; it is used now.
  return { ok: false, code: 'code_used', message: 'the code was used' };
}

export class KyselyEdgeStore implements EdgeStore {
  private readonly ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
  }

  async find(idOrName: string): Promise<EdgeRecord | null> {
    return (await edgeWhere(this.ctx, 'id', idOrName)) ?? (await edgeWhere(this.ctx, 'name', idOrName));
  }

  get(id: string): Promise<EdgeRecord | null> {
    return edgeWhere(this.ctx, 'id', id);
  }

  async list(): Promise<EdgeRecord[]> {
    const rows = await this.ctx.db.selectFrom('edges').selectAll().orderBy('name').execute();
    return rows.map(toEdge);
  }

  async ruleCounts(edgeId?: string): Promise<ReadonlyMap<string, number>> {
    const rows = await this.ctx.db
      .selectFrom('rules')
      .select((eb) => ['edge_id', eb.fn.countAll().as('n')])
      .where('state', '!=', 'removed')
      .$if(edgeId !== undefined, (q) => q.where('edge_id', '=', edgeId!))
      .groupBy('edge_id')
      .execute();
    return new Map(rows.map((row) => [row.edge_id, Number(row.n)]));
  }

  async rename(id: string, name: string): Promise<EdgeRecord | null> {
    try {
      return await this.ctx.atomically(async (ctx) => {
        const other = await ctx.db
          .selectFrom('edges')
          .select('id')
          .where('name', '=', name)
          .where('id', '!=', id)
          .executeTakeFirst();
        if (other !== undefined) return null;
        await ctx.db.updateTable('edges').set({ name }).where('id', '=', id).execute();
        return edgeWhere(ctx, 'id', id);
      });
    } catch (error) {
      // Another server took the name between the check and the update.
      if (isUniqueViolation(error)) return null;
      throw error;
    }
  }

  revoke(id: string): Promise<EdgeRecord | null> {
    return this.ctx.atomically(async (ctx) => {
      await ctx.db
        .updateTable('edges')
        .set((eb) => ({ revoked_at: eb.fn.coalesce('revoked_at', eb.val(ctx.now())) }))
        .where('id', '=', id)
        .execute();
      return edgeWhere(ctx, 'id', id);
    });
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.ctx.db.deleteFrom('edges').where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async secretMatches(id: string, secret: string): Promise<boolean> {
    const row = await this.ctx.db
      .selectFrom('edges')
      .select('secret_hash')
      .where('id', '=', id)
      .executeTakeFirst();
    const hash = row?.secret_hash ?? null;
    return hash !== null && secretMatches(secret, hash);
  }

  async seen(id: string, version: number | null): Promise<void> {
    await this.ctx.db
      .updateTable('edges')
      .set(version === null ? { last_seen_at: this.ctx.now() } : { last_seen_at: this.ctx.now(), version })
      .where('id', '=', id)
      .execute();
  }

  async lock(edgeId: string): Promise<void> {
    if (!this.ctx.postgres) return;
    await this.ctx.db.selectFrom('edges').select('id').where('id', '=', edgeId).forUpdate().execute();
  }

  createEnrollment(
    name: string,
    ttlMs: number,
    createdBy: string | null,
  ): Promise<{ edge: EdgeRecord; enrollment: EnrollmentRecord; code: string }> {
    return this.ctx.atomically(async (ctx) => {
      const now = ctx.now();
      await ctx.db
        .insertInto('edges')
        .values({ id: newId('e_'), name, created_at: now })
        .onConflict((oc) => oc.column('name').doNothing())
        .execute();
      // Locked: two codes made at once for one edge must not both stay unsuperseded.
      const edge = await ctx.db
        .selectFrom('edges')
        .select('id')
        .where('name', '=', name)
        .$if(ctx.postgres, (q) => q.forUpdate())
        .executeTakeFirstOrThrow();
      await ctx.db
        .updateTable('enrollments')
        .set({ superseded_at: now })
        .where('edge_id', '=', edge.id)
        .where('used_at', 'is', null)
        .where('superseded_at', 'is', null)
        .execute();
      const code = newSecret('', 24);
      const enrollment: EnrollmentRecord = { id: newId('n_'), edgeId: edge.id, expiresAt: now + ttlMs };
      await ctx.db
        .insertInto('enrollments')
        .values({
          id: enrollment.id,
          edge_id: edge.id,
          code_hash: hashSecret(code),
          created_by: createdBy,
          created_at: now,
          expires_at: enrollment.expiresAt,
        })
        .execute();
      return { edge: (await edgeWhere(ctx, 'id', edge.id))!, enrollment, code };
    });
  }

  redeemEnrollment(code: string): Promise<Redemption> {
    return this.ctx.atomically(async (ctx) => {
      const now = ctx.now();
      const codeHash = hashSecret(code);
      // One conditional UPDATE takes the code: of redeemers racing on other connections,
      // exactly one gets the row back.
      const taken = await ctx.db
        .updateTable('enrollments')
        .set({ used_at: now })
        .where('code_hash', '=', codeHash)
        .where('used_at', 'is', null)
        .where('superseded_at', 'is', null)
        .where('expires_at', '>', now)
        .returning('edge_id')
        .executeTakeFirst();
      if (taken === undefined) return refusal(ctx, codeHash, now);
      const secret = newSecret(SECRET_PREFIX);
      await ctx.db
        .updateTable('edges')
        .set({ secret_hash: hashSecret(secret), enrolled_at: now, revoked_at: null })
        .where('id', '=', taken.edge_id)
        .execute();
      return { ok: true, edge: (await edgeWhere(ctx, 'id', taken.edge_id))!, secret };
    });
  }
}
