// Users, their API tokens and their web sessions. Tokens and session cookies are stored as
// their hash only.

import type { Selectable } from 'kysely';
import type { TokensTable, UsersTable } from '../database.ts';
import {
  type Role,
  type SessionRecord,
  TOKEN_USE_RESOLUTION_MS,
  type TokenRecord,
  type UserRecord,
} from '../records.ts';
import { hashSecret, newId, newSecret } from '../secrets.ts';
import type { UserStore } from '../store.ts';
import { PreparedQuery } from './prepared-query.ts';
import { changed, type StoreContext } from './store-context.ts';

const TOKEN_PREFIX = 'slt_';
const SESSION_PREFIX = 'sls_';

function toUser(row: Selectable<UsersTable>): UserRecord {
  return {
    id: row.id,
    name: row.name,
    displayName: row.display_name ?? row.name,
    role: row.role as Role,
    createdAt: Number(row.created_at),
    disabled: row.disabled_at !== null,
    hasPassword: row.password_hash !== null,
    mustChangePassword: Number(row.must_change_password) === 1,
  };
}

function toToken(row: Selectable<TokensTable>): TokenRecord {
  return {
    id: row.id,
    userId: row.user_id,
    name: row.label ?? '',
    createdAt: Number(row.created_at),
    lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
  };
}

/** The live user of a live token, by the token's hash (authenticate, on every API request). */
const TOKEN_USER = new PreparedQuery((db, a: { hash: string }) =>
  db
    .selectFrom('tokens as t')
    .innerJoin('users as u', 'u.id', 't.user_id')
    .selectAll('u')
    .select(['t.id as token_id', 't.last_used_at as token_used_at'])
    .where('t.hash', '=', a.hash)
    .where('t.revoked_at', 'is', null)
    .where('u.disabled_at', 'is', null),
);

async function userById(ctx: StoreContext, id: string): Promise<UserRecord | null> {
  const row = await ctx.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  return row === undefined ? null : toUser(row);
}

export class KyselyUserStore implements UserStore {
  private readonly ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
  }

  async count(): Promise<number> {
    const row = await this.ctx.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async create(name: string, role: Role, displayName: string | null = null): Promise<UserRecord> {
    const row = await this.ctx.db
      .insertInto('users')
      .values({ id: newId('u_'), name, role, created_at: this.ctx.now(), display_name: displayName })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toUser(row);
  }

  async list(): Promise<UserRecord[]> {
    const rows = await this.ctx.db.selectFrom('users').selectAll().orderBy('name').execute();
    return rows.map(toUser);
  }

  async getByName(name: string): Promise<UserRecord | null> {
    const row = await this.ctx.db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
    return row === undefined ? null : toUser(row);
  }

  async find(idOrName: string): Promise<UserRecord | null> {
    return (await userById(this.ctx, idOrName)) ?? (await this.getByName(idOrName));
  }

  update(id: string, change: { displayName?: string; disabled?: boolean }): Promise<UserRecord | null> {
    return this.ctx.atomically(async ({ db, now }) => {
      if (change.displayName !== undefined) {
        await db
          .updateTable('users')
          .set({ display_name: change.displayName })
          .where('id', '=', id)
          .execute();
      }
      if (change.disabled === true) {
        await db
          .updateTable('users')
          .set({ disabled_at: now() })
          .where('id', '=', id)
          .where('disabled_at', 'is', null)
          .execute();
      } else if (change.disabled === false) {
        await db.updateTable('users').set({ disabled_at: null }).where('id', '=', id).execute();
      }
      const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
      return row === undefined ? null : toUser(row);
    });
  }

  delete(id: string): Promise<{ tokens: number; sessions: number } | null> {
    return this.ctx.atomically(async (ctx) => {
      // The row lock keeps a concurrent token or session from landing between count and delete.
      const user = await ctx.db
        .selectFrom('users')
        .select('id')
        .where('id', '=', id)
        .$if(ctx.postgres, (q) => q.forUpdate())
        .executeTakeFirst();
      if (user === undefined) return null;
      const count = async (table: 'tokens' | 'sessions') =>
        Number(
          (
            await ctx.db
              .selectFrom(table)
              .select((eb) => eb.fn.countAll().as('n'))
              .where('user_id', '=', id)
              .executeTakeFirstOrThrow()
          ).n,
        );
      const tokens = await count('tokens');
      const sessions = await count('sessions');
      // Tokens and sessions go with the user (ON DELETE CASCADE).
      const gone = changed(await ctx.db.deleteFrom('users').where('id', '=', id).executeTakeFirst());
      return gone > 0 ? { tokens, sessions } : null;
    });
  }

  async passwordHash(id: string): Promise<string | null> {
    const row = await this.ctx.db
      .selectFrom('users')
      .select('password_hash')
      .where('id', '=', id)
      .executeTakeFirst();
    return row?.password_hash ?? null;
  }

  async setPassword(id: string, hash: string, mustChange: boolean): Promise<void> {
    await this.ctx.db
      .updateTable('users')
      .set({ password_hash: hash, must_change_password: mustChange ? 1 : 0 })
      .where('id', '=', id)
      .execute();
  }

  async createToken(userId: string, label: string | null = null): Promise<{ id: string; token: string }> {
    const token = newSecret(TOKEN_PREFIX);
    const id = newId('t_');
    await this.ctx.db
      .insertInto('tokens')
      .values({ id, user_id: userId, hash: hashSecret(token), label, created_at: this.ctx.now() })
      .execute();
    return { id, token };
  }

  async listTokens(userId: string): Promise<TokenRecord[]> {
    const rows = await this.ctx.db
      .selectFrom('tokens')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toToken);
  }

  async authenticate(token: string): Promise<UserRecord | null> {
    const row = await TOKEN_USER.first(this.ctx, { hash: hashSecret(token) });
    if (row === undefined) return null;
    const now = this.ctx.now();
    const usedAt = row.token_used_at === null ? null : Number(row.token_used_at);
    // Written once a minute at most: a script's every request would otherwise be a write.
    if (usedAt === null || now - usedAt >= TOKEN_USE_RESOLUTION_MS) {
      await this.ctx.db
        .updateTable('tokens')
        .set({ last_used_at: now })
        .where('id', '=', row.token_id)
        .execute();
    }
    return toUser(row);
  }

  revokeToken(userId: string, tokenId: string): Promise<TokenRecord | null> {
    return this.ctx.atomically(async ({ db, now }) => {
      await db
        .updateTable('tokens')
        .set({ revoked_at: now() })
        .where('id', '=', tokenId)
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .execute();
      const row = await db
        .selectFrom('tokens')
        .selectAll()
        .where('id', '=', tokenId)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return row === undefined ? null : toToken(row);
    });
  }

  async tokenHashes(): Promise<string[]> {
    const rows = await this.ctx.db.selectFrom('tokens').select('hash').execute();
    return rows.map((row) => row.hash);
  }

  async createSession(userId: string): Promise<{ id: string; cookie: string }> {
    const cookie = newSecret(SESSION_PREFIX);
    const id = newId('s_');
    const now = this.ctx.now();
    await this.ctx.db
      .insertInto('sessions')
      .values({ id, user_id: userId, hash: hashSecret(cookie), created_at: now, last_seen_at: now })
      .execute();
    return { id, cookie };
  }

  async session(cookie: string, idleMs: number, maxAgeMs: number): Promise<SessionRecord | null> {
    const { db } = this.ctx;
    const row = await db
      .selectFrom('sessions as s')
      .innerJoin('users as u', 'u.id', 's.user_id')
      .selectAll('u')
      .select(['s.id as session_id', 's.created_at as session_created_at', 's.last_seen_at'])
      .where('s.hash', '=', hashSecret(cookie))
      .executeTakeFirst();
    if (row === undefined) return null;
    const now = this.ctx.now();
    const createdAt = Number(row.session_created_at);
    const expired = now - Number(row.last_seen_at) > idleMs || now - createdAt > maxAgeMs;
    if (expired) {
      await db.deleteFrom('sessions').where('id', '=', row.session_id).execute();
      return null;
    }
    if (row.disabled_at !== null) return null;
    await db.updateTable('sessions').set({ last_seen_at: now }).where('id', '=', row.session_id).execute();
    return { id: row.session_id, user: toUser(row), createdAt, lastSeenAt: now };
  }

  async deleteSession(id: string): Promise<void> {
    await this.ctx.db.deleteFrom('sessions').where('id', '=', id).execute();
  }

  async deleteSessions(userId: string, exceptId: string | null = null): Promise<number> {
    const result = await this.ctx.db
      .deleteFrom('sessions')
      .where('user_id', '=', userId)
      .$if(exceptId !== null, (q) => q.where('id', '!=', exceptId!))
      .executeTakeFirst();
    return changed(result);
  }
}
