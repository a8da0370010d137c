import { statSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { thrownCode } from '@sluice/test-kit';
import { describe, expect, it } from 'vitest';
import { tempDirEachTest } from '../test-harness.ts';
import { MIGRATIONS, type Migration, migrate, SCHEMA_VERSION, schemaVersion } from './migrations.ts';
import { openSqliteStore } from './sqlite/sqlite-store.ts';

let file: string;

tempDirEachTest('sluice-store-', (made) => {
  file = join(made, 'sluice.db');
});

describe('migrations', () => {
  it('brings a new database to the last version once, and a reopen changes nothing', async () => {
    await openSqliteStore(file).close();
    const db = new DatabaseSync(file);
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
    expect(migrate(db, file)).toEqual([]);
    db.close();
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('applies the missing migrations in order, each in its own transaction', () => {
    const db = new DatabaseSync(file);
    const first: Migration = { version: 1, name: 'a', sql: 'CREATE TABLE a (x INTEGER)' };
    const second: Migration = { version: 2, name: 'b', sql: 'ALTER TABLE a ADD COLUMN y TEXT' };
    expect(migrate(db, file, [first])).toEqual([1]);
    expect(migrate(db, file, [first, second])).toEqual([2]);
    expect(schemaVersion(db)).toBe(2);
    // A migration that fails leaves the database at the version before it.
    const broken: Migration = {
      version: 3,
      name: 'broken',
      sql: 'CREATE TABLE b (x); SELECT nonsense FROM nowhere',
    };
    expect(thrownCode(() => migrate(db, file, [first, second, broken]))).toBe('store_unusable');
    expect(schemaVersion(db)).toBe(2);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'b'").get()).toBeUndefined();
    db.close();
  });

  it('refuses a database from a newer server with schema_too_new', async () => {
    await openSqliteStore(file).close();
    const db = new DatabaseSync(file);
    db.prepare('INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)').run(
      SCHEMA_VERSION + 1,
      'future',
      0,
    );
    db.close();
    expect(thrownCode(() => openSqliteStore(file))).toBe('schema_too_new');
  });

  it('numbers the migrations 1.. in order', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
  });

  it('applies a migration that fills a gap later, after the ones past the gap', () => {
    const db = new DatabaseSync(file);
    const first: Migration = { version: 1, name: 'a', sql: 'CREATE TABLE a (x INTEGER)' };
    const second: Migration = { version: 2, name: 'b', sql: 'CREATE TABLE b (x INTEGER)' };
    const third: Migration = { version: 3, name: 'c', sql: 'CREATE TABLE c (x INTEGER)' };
    expect(migrate(db, file, [first, third])).toEqual([1, 3]);
    expect(migrate(db, file, [first, second, third])).toEqual([2]);
    expect(migrate(db, file, [first, second, third])).toEqual([]);
    expect(schemaVersion(db)).toBe(3);
    db.close();
  });
});
