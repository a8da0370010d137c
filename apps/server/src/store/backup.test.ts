import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { rejectedCode } from '@sluice/test-kit';
import { describe, expect, it } from 'vitest';
import { dataDirPaths } from '../data-dir.ts';
import { tempDirEachTest } from '../test-harness.ts';
import { backupDatabase, restoreDatabase } from './backup.ts';
import { SCHEMA_VERSION } from './migrations.ts';
import { openSqliteStore } from './sqlite/sqlite-store.ts';

let root: string;

tempDirEachTest('sluice-backup-', (made) => {
  root = made;
});

function dataDir(name: string) {
  const path = join(root, name);
  mkdirSync(path, { mode: 0o700 });
  return dataDirPaths(path);
}

describe('backup and restore', () => {
  it('copies a database that is open and being written, and restores it into another data dir', async () => {
    const source = dataDir('a');
    const store = openSqliteStore(source.dbFile);
    await store.edges.createEnrollment('edge-01', 60_000, 'admin');
    // Writes meanwhile: the backup is one consistent moment, whatever it catches.
    const writer = setInterval(
      () => void store.audit.add({ user: 'a', action: 'tick', target: null, outcome: 'ok', from: null }),
      1,
    );
    const out = join(root, 'backup.db');
    const result = await backupDatabase(source, out);
    clearInterval(writer);
    expect(result.schemaVersion).toBe(SCHEMA_VERSION);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    await store.close();

    const target = dataDir('b');
    expect((await restoreDatabase(target, out, { force: false })).schemaVersion).toBe(SCHEMA_VERSION);
    const restored = openSqliteStore(target.dbFile);
    expect((await restored.edges.list()).map((e) => e.name)).toEqual(['edge-01']);
    await restored.close();
  });

  it('refuses a data dir that holds a database unless forced, and then replaces it', async () => {
    const source = dataDir('a');
    const store = openSqliteStore(source.dbFile);
    await store.edges.createEnrollment('edge-01', 60_000, null);
    await store.close();
    const out = join(root, 'backup.db');
    await backupDatabase(source, out);

    const target = dataDir('b');
    const other = openSqliteStore(target.dbFile);
    await other.edges.createEnrollment('edge-99', 60_000, null);
    await other.close();
    expect(await rejectedCode(restoreDatabase(target, out, { force: false }))).toBe('data_dir_not_empty');
    const untouched = openSqliteStore(target.dbFile);
    expect((await untouched.edges.list()).map((e) => e.name)).toEqual(['edge-99']);
    await untouched.close();
    await restoreDatabase(target, out, { force: true });
    const replaced = openSqliteStore(target.dbFile);
    expect((await replaced.edges.list()).map((e) => e.name)).toEqual(['edge-01']);
    await replaced.close();
  });

  it('refuses a backup with a newer schema, and a file that is no database', async () => {
    const source = dataDir('a');
    await openSqliteStore(source.dbFile).close();
    const db = new DatabaseSync(source.dbFile);
    db.prepare('INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)').run(
      SCHEMA_VERSION + 1,
      'future',
      0,
    );
    db.close();
    const target = dataDir('b');
    expect(await rejectedCode(restoreDatabase(target, source.dbFile, { force: false }))).toBe(
      'schema_too_new',
    );
    expect(existsSync(target.dbFile)).toBe(false);

    const junk = join(root, 'junk.db');
    writeFileSync(junk, 'not a database at all, just text that is long enough to look like a header');
    expect(await rejectedCode(restoreDatabase(target, junk, { force: false }))).toBe('restore_failed');
    expect(await rejectedCode(restoreDatabase(target, join(root, 'missing.db'), { force: false }))).toBe(
      'restore_failed',
    );
    expect(await rejectedCode(backupDatabase(dataDir('empty'), join(root, 'x.db')))).toBe('backup_failed');
  });
});
