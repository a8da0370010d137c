// The Store in one SQLite file (node:sqlite), the embedded default. One connection, which
// Kysely's SQLite driver lends to one query or transaction at a time, so a transaction's
// statements never interleave with another caller's. Opening makes the file 0600, migrates it,
// and fails with store_unusable or schema_too_new.

import { closeSync, openSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { type Dialect, Kysely, SqliteDialect } from 'kysely';
import { serverError } from '../../errors.ts';
import type { Database } from '../database.ts';
import { KyselyStore } from '../kysely/kysely-store.ts';
import { migrate } from '../migrations.ts';
import { BusyRetryDriver } from './busy-retry-driver.ts';
import { NodeSqliteDatabase } from './node-sqlite-database.ts';

export interface SqliteStoreOptions {
  /** The clock, for tests of expiry. */
  readonly now?: (() => number) | undefined;
  /**
   * How long a statement waits for another process's write lock before store_unavailable; the
   * wait is on timers, never spinning the event loop.
   */
  readonly busyTimeoutMs?: number;
}

const BUSY_TIMEOUT_MS = 5000;

function openDatabase(file: string, busyTimeoutMs: number): DatabaseSync {
  let db: DatabaseSync;
  try {
    // SQLite makes the file (and its -wal and -shm, which copy its mode) with the umask's
    // mode; the database holds token and secret hashes, so it is made 0600 first.
    if (file !== ':memory:') closeSync(openSync(file, 'a', 0o600));
    // Opening and migrating may wait for a lock synchronously (nothing is served yet).
    db = new DatabaseSync(file, { enableForeignKeyConstraints: true, timeout: busyTimeoutMs });
    // WAL: a backup (another process) reads while the server writes, neither blocking.
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = NORMAL');
  } catch (error) {
    throw serverError('store_unusable', `${file}: ${(error as Error).message}`);
  }
  const problems = integrityProblems(db);
  if (problems !== null) {
    db.close();
    throw serverError(
      'store_unusable',
      `${file} fails SQLite's quick_check: ${problems}; restore a backup (sluice-server restore) or move the file away`,
    );
  }
  try {
    migrate(db, file);
  } catch (error) {
    db.close();
    throw error;
  }
  // From now on a held lock answers BUSY at once and BusyRetryDriver waits with timers.
  db.exec('PRAGMA busy_timeout = 0');
  return db;
}

/** null when PRAGMA quick_check finds the file sound; else its first findings, in one line. */
function integrityProblems(db: DatabaseSync): string | null {
  let rows: Record<string, unknown>[];
  try {
    rows = db.prepare('PRAGMA quick_check(3)').all() as Record<string, unknown>[];
  } catch (error) {
    return (error as Error).message;
  }
  // SQLite's findings may span lines; the error is one line.
  const findings = rows.map((row) => String(Object.values(row)[0]).replace(/\s+/g, ' ').trim());
  return findings.length === 1 && findings[0] === 'ok' ? null : findings.join('; ');
}

/** Opens (making and migrating it if need be) the SQLite store in `file`. */
export function openSqliteStore(file: string, options: SqliteStoreOptions = {}): KyselyStore {
  const busyTimeoutMs = options.busyTimeoutMs ?? BUSY_TIMEOUT_MS;
  const database = new NodeSqliteDatabase(openDatabase(file, busyTimeoutMs));
  const sqlite = new SqliteDialect({ database });
  const dialect: Dialect = {
    createAdapter: () => sqlite.createAdapter(),
    createDriver: () => new BusyRetryDriver(sqlite.createDriver(), busyTimeoutMs),
    createIntrospector: (db) => sqlite.createIntrospector(db),
    createQueryCompiler: () => sqlite.createQueryCompiler(),
  };
  return new KyselyStore({
    db: new Kysely<Database>({ dialect }),
    dialect: 'sqlite',
    backend: `SQLite ${file}`,
    now: options.now,
    // Kysely closes the database only if it ever ran a query.
    release: () => database.close(),
  });
}
