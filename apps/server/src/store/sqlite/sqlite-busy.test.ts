// SQLite locked by another process (a `user` command, a tool) past the busy timeout: the store
// answers store_unavailable, naming the file, and works again once the lock is gone.

import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { rejectedCode } from '@sluice/test-kit';
import { describe, expect, it } from 'vitest';
import { tempDirEachTest } from '../../test-harness.ts';
import { openSqliteStore } from './sqlite-store.ts';

let file: string;

tempDirEachTest('sluice-busy-', (made) => {
  file = join(made, 'sluice.db');
});

describe('an SQLite store whose file another connection holds', () => {
  it('answers store_unavailable past the busy timeout, and recovers when the lock goes', async () => {
    const store = openSqliteStore(file, { busyTimeoutMs: 20 });
    const other = new DatabaseSync(file);
    other.exec('BEGIN IMMEDIATE');
    try {
      expect(await rejectedCode(store.users.create('ann', 'user'))).toBe('store_unavailable');
      await expect(store.users.create('ann', 'user')).rejects.toThrow(
        `SQLite ${file} is unavailable: database is locked`,
      );
      // A transaction cannot even begin; nothing of it is left half open.
      expect(await rejectedCode(store.transaction((tx) => tx.users.create('bob', 'user')))).toBe(
        'store_unavailable',
      );
      expect(await rejectedCode(store.edges.createEnrollment('edge-01', 60_000, null))).toBe(
        'store_unavailable',
      );
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect(await store.users.create('ann', 'user')).toMatchObject({ name: 'ann' });
    await store.transaction((tx) => tx.users.create('bob', 'user'));
    expect((await store.users.list()).map((user) => user.name)).toEqual(['ann', 'bob']);
    await store.close();
  });

  it('waits for a lock on timers: the server goes on serving, and a lock let go in time is no error', async () => {
    const store = openSqliteStore(file, { busyTimeoutMs: 3000 });
    const other = new DatabaseSync(file);
    other.exec('BEGIN IMMEDIATE');
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 5);
    // Only a wait that leaves the event loop free lets this timer run and let the lock go: a
    // busy timeout spinning inside SQLite would hold the loop until it gave up (store_unavailable).
    const release = setTimeout(() => {
      other.exec('ROLLBACK');
      other.close();
    }, 100);
    try {
      const [ann] = await Promise.all([
        store.users.create('ann', 'user'),
        store.transaction((tx) => tx.users.create('bob', 'user')),
      ]);
      expect(ann).toMatchObject({ name: 'ann' });
      expect(ticks).toBeGreaterThan(0);
      expect((await store.users.list()).map((user) => user.name)).toEqual(['ann', 'bob']);
    } finally {
      clearInterval(ticker);
      clearTimeout(release);
      if (other.isOpen) other.close();
      await store.close();
    }
  });
});
