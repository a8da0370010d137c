// The two backends the store contract tests run against: an SQLite file in a temp dir, and a
// database of its own in a throwaway PostgreSQL cluster (one cluster per test file, a fresh
// database per test). `useStoreBackend` registers the hooks in the describe that calls it.

import { join } from 'node:path';
import { type PgCluster, removeDir, startPgCluster, tempDir } from '@sluice/test-kit';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { type OpenStoreOptions, openStore } from './open-store.ts';
import type { Store } from './store.ts';

export const STORE_BACKENDS = ['sqlite', 'postgres'] as const;
export type StoreBackend = (typeof STORE_BACKENDS)[number];

export interface StoreFixture {
  /** The store spec of this test's database. */
  readonly spec: string;
  /** The PostgreSQL cluster (postgres only). */
  readonly cluster: PgCluster;
  /** Opens a store on this test's database; it is closed after the test. */
  open(options?: OpenStoreOptions): Promise<Store>;
}

let databases = 0;

export function useStoreBackend(backend: StoreBackend): StoreFixture {
  let cluster: PgCluster | null = null;
  let dir = '';
  let spec = '';
  const opened: Store[] = [];

  beforeAll(async () => {
    if (backend === 'postgres') cluster = await startPgCluster();
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });
  beforeEach(async () => {
    if (cluster === null) {
      dir = tempDir('sluice-store-');
      spec = join(dir, 'sluice.db');
      return;
    }
    databases += 1;
    const name = `sluice_${process.pid}_${databases}`;
    const admin = new pg.Client({ connectionString: cluster.url });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${name}`);
    } finally {
      await admin.end();
    }
    spec = cluster.url.replace(/\/postgres$/, `/${name}`);
  });
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
    if (dir !== '') removeDir(dir);
    dir = '';
  });

  return {
    get spec() {
      return spec;
    },
    get cluster() {
      if (cluster === null) throw new Error('no PostgreSQL cluster for the sqlite backend');
      return cluster;
    },
    async open(options = {}) {
      const store = await openStore(spec, options);
      opened.push(store);
      return store;
    },
  };
}
