import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { SluiceError } from '@sluice/errors';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../test-harness.ts';
import { MIGRATIONS, type Migration, migrate, SCHEMA_VERSION, schemaVersion } from './migrations.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';

let dir: string;
let file: string;

beforeEach(() => {
  dir = tempDir('sluice-store-');
  file = join(dir, 'sluice.db');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof SluiceError) return error.code;
    throw error;
  }
  return undefined;
}

describe('migrations', () => {
  it('brings a new database to the last version once, and a reopen changes nothing', async () => {
    await new SqliteStore(file).close();
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
    expect(codeOf(() => migrate(db, file, [first, second, broken]))).toBe('store_unusable');
    expect(schemaVersion(db)).toBe(2);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'b'").get()).toBeUndefined();
    db.close();
  });

  it('refuses a database from a newer server with schema_too_new', async () => {
    await new SqliteStore(file).close();
    const db = new DatabaseSync(file);
    db.prepare('INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)').run(
      SCHEMA_VERSION + 1,
      'future',
      0,
    );
    db.close();
    expect(codeOf(() => new SqliteStore(file))).toBe('schema_too_new');
    // Versions only ascend; a gap is allowed (branches take numbers apart and merge later).
    const versions = MIGRATIONS.map((m) => m.version);
    expect(versions.every((version, i) => i === 0 || version > versions[i - 1]!)).toBe(true);
  });
});
