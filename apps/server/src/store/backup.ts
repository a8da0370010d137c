// Online backup and restore of the database file. Backup runs in its own process while the
// server runs: SQLite's backup API copies the database page by page through a second
// connection (WAL mode lets it read while the server writes; a write meanwhile restarts the
// copy, so the result is always one consistent moment). Restore refuses a backup from a newer
// schema, and will not overwrite a database unless asked to.
//
// The backup is the database only. The data dir's server.key and server.crt are what enrolled
// edges pin: keep a copy of them too, or edges must be enrolled again after a restore.

import { chmodSync, existsSync, renameSync, rmSync } from 'node:fs';
import { backup, DatabaseSync } from 'node:sqlite';
import type { DataDir } from '../data-dir.ts';
import { serverError } from '../errors.ts';
import { SCHEMA_VERSION, schemaVersion } from './migrations.ts';
import { openSqliteStore } from './sqlite/sqlite-store.ts';

function openReadOnly(file: string, code: 'backup_failed' | 'restore_failed'): DatabaseSync {
  if (!existsSync(file)) throw serverError(code, `${file} does not exist`);
  try {
    return new DatabaseSync(file, { readOnly: true, timeout: 5000 });
  } catch (error) {
    throw serverError(code, `${file}: cannot open as a database: ${(error as Error).message}`);
  }
}

/** Copies the data dir's database to `out` (mode 0600); answers the pages copied. */
export async function backupDatabase(
  dir: DataDir,
  out: string,
): Promise<{ pages: number; schemaVersion: number }> {
  const source = openReadOnly(dir.dbFile, 'backup_failed');
  const partial = `${out}.partial`;
  try {
    const version = schemaVersion(source);
    const pages = await backup(source, partial);
    chmodSync(partial, 0o600);
    renameSync(partial, out);
    return { pages, schemaVersion: version };
  } catch (error) {
    rmSync(partial, { force: true });
    throw serverError('backup_failed', `cannot back up ${dir.dbFile} to ${out}: ${(error as Error).message}`);
  } finally {
    source.close();
  }
}

function removeDatabase(file: string): void {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
}

/**
 * Puts the backup `input` in place as the data dir's database. The caller holds the data dir's
 * lock, so no server runs on it meanwhile.
 */
export async function restoreDatabase(
  dir: DataDir,
  input: string,
  { force }: { force: boolean },
): Promise<{ schemaVersion: number }> {
  const source = openReadOnly(input, 'restore_failed');
  const staging = `${dir.dbFile}.restoring`;
  let version: number;
  try {
    try {
      version = schemaVersion(source);
      const check = source.prepare('PRAGMA quick_check').get();
      if (check?.quick_check !== 'ok') throw new Error(`integrity check says ${String(check?.quick_check)}`);
    } catch (error) {
      throw serverError(
        'restore_failed',
        `${input} is not a usable sluice database: ${(error as Error).message}`,
      );
    }
    if (version === 0)
      throw serverError('restore_failed', `${input} is not a sluice-server database (no schema_version)`);
    if (version > SCHEMA_VERSION) {
      throw serverError(
        'schema_too_new',
        `${input} has schema version ${version}, newer than this sluice-server knows (${SCHEMA_VERSION}); restore it with a newer sluice-server`,
      );
    }
    if (existsSync(dir.dbFile) && !force) {
      throw serverError(
        'data_dir_not_empty',
        `${dir.path} already holds a database (${dir.dbFile}); pass --force to replace it`,
      );
    }
    removeDatabase(staging);
    try {
      await backup(source, staging);
    } catch (error) {
      removeDatabase(staging);
      throw serverError('restore_failed', `cannot copy ${input} to ${staging}: ${(error as Error).message}`);
    }
  } finally {
    source.close();
  }
  chmodSync(staging, 0o600);
  removeDatabase(dir.dbFile);
  renameSync(staging, dir.dbFile);
  // Bring an older backup up to this server's schema now, so a problem shows here and not at
  // the next start.
  await openSqliteStore(dir.dbFile).close();
  return { schemaVersion: version };
}
