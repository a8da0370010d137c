import { join } from 'node:path';
import { removeDir, tempDir } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../open-store.ts';
import type { Store } from '../store.ts';
import { useStoreBackend } from '../store-backends.fixture.ts';
import type { KyselyStore } from './kysely-store.ts';
import { PreparedQuery } from './prepared-query.ts';
import { StoreContext } from './store-context.ts';

function contextOf(store: Store): StoreContext {
  const kysely = store as KyselyStore;
  return new StoreContext(kysely.kysely, kysely.dialect, Date.now, false, { lastPruneAt: undefined });
}

/** A prepared lookup of users by name, counting how often its query is built. */
function usersByName() {
  const built = { count: 0 };
  const query = new PreparedQuery((db, a: { name: string; role: string }) => {
    built.count++;
    return db
      .selectFrom('users')
      .select(['name', 'role'])
      .where('name', '=', a.name)
      .where('role', '=', a.role);
  });
  return { query, built };
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) removeDir(dir);
});

async function sqliteStore(): Promise<Store> {
  const dir = tempDir('sluice-prepared-');
  dirs.push(dir);
  return openStore(join(dir, 'sluice.db'));
}

describe('PreparedQuery', () => {
  it('builds its query once and answers each call with that call’s arguments', async () => {
    const store = await sqliteStore();
    try {
      await store.users.create('alice', 'admin');
      await store.users.create('bob', 'user');
      const ctx = contextOf(store);
      const { query, built } = usersByName();
      expect(await query.rows(ctx, { name: 'alice', role: 'admin' })).toEqual([
        { name: 'alice', role: 'admin' },
      ]);
      expect(await query.rows(ctx, { name: 'bob', role: 'user' })).toEqual([{ name: 'bob', role: 'user' }]);
      expect(await query.first(ctx, { name: 'bob', role: 'admin' })).toBeUndefined();
      expect(await query.rows(ctx, { name: 'carol', role: 'user' })).toEqual([]);
      expect(built.count).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('refuses a query that computes with an argument instead of passing it to Kysely', async () => {
    const store = await sqliteStore();
    try {
      const query = new PreparedQuery((db, a: { name: string }) =>
        db.selectFrom('users').select('name').where('name', '=', `${a.name}-x`),
      );
      await expect(query.rows(contextOf(store), { name: 'alice' })).rejects.toThrow(
        'prepared query: argument name is not a parameter',
      );
    } finally {
      await store.close();
    }
  });
});

describe('PreparedQuery on PostgreSQL', () => {
  const backend = useStoreBackend('postgres');

  it('compiles once per dialect: the SQLite text never reaches PostgreSQL', async () => {
    const { query, built } = usersByName();
    const sqlite = await sqliteStore();
    try {
      await sqlite.users.create('alice', 'admin');
      expect(await query.rows(contextOf(sqlite), { name: 'alice', role: 'admin' })).toHaveLength(1);
    } finally {
      await sqlite.close();
    }
    const postgres = await backend.open();
    await postgres.users.create('bob', 'user');
    const ctx = contextOf(postgres);
    expect(await query.rows(ctx, { name: 'bob', role: 'user' })).toEqual([{ name: 'bob', role: 'user' }]);
    expect(await query.rows(ctx, { name: 'alice', role: 'admin' })).toEqual([]);
    expect(built.count).toBe(2);
  });
});
