// The Store in PostgreSQL, for several sluice-servers sharing one database: Kysely over a pg
// pool. Opening migrates the database (postgres-migrations.ts) and fails with store_unavailable
// when it cannot be reached, store_unusable or schema_too_new. The pool outlives the database
// going away: a broken idle connection is dropped (its error reported, never thrown), calls
// fail with store_unavailable meanwhile, and the next call once it is back opens a new one.

import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from '../database.ts';
import { KyselyStore } from '../kysely/kysely-store.ts';
import { migratePostgres } from '../postgres-migrations.ts';
import { storeFailure } from '../store-errors.ts';
import { describePostgres } from './postgres-url.ts';

export interface PostgresStoreOptions {
  /** The clock, for tests of expiry. */
  readonly now?: (() => number) | undefined;
  /** Connections in the pool. */
  readonly maxConnections?: number;
  /** An idle connection's failure (the database restarted): it is dropped, the pool goes on. */
  readonly onIdleError?: (error: Error) => void;
}

/** OIDs of the types whose text pg would hand over as strings. */
const INT8_OID = 20;
const NUMERIC_OID = 1700;

/**
 * Epoch ms, byte counters and COUNT(*) are BIGINT, which pg answers as strings for fear of
 * precision; every value sluice stores is below 2^53, so they are numbers, as SQLite's are.
 */
const TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID || oid === NUMERIC_OID
      ? Number
      : pg.types.getTypeParser(oid, format as 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

/** Opens the PostgreSQL store at `url` (postgres:// or postgresql://), migrating it. */
export async function openPostgresStore(
  url: string,
  options: PostgresStoreOptions = {},
): Promise<KyselyStore> {
  const backend = describePostgres(url);
  const pool = new pg.Pool({
    connectionString: url,
    application_name: 'sluice-server',
    max: options.maxConnections ?? 10,
    // A database that is down fails a call in seconds instead of queueing it for ever.
    connectionTimeoutMillis: 5000,
    types: TYPES,
  });
  // Without a listener, an idle client's error (the server shut down) would crash the process.
  pool.on('error', (error) => options.onIdleError?.(error));
  // The pool listens only while a connection is idle. One lent out (a transaction between two
  // statements) that the server cuts off would throw its error with nobody listening and end the
  // process; the caller's next statement fails with store_unavailable instead.
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  try {
    await migratePostgres(pool, backend);
  } catch (error) {
    await pool.end().catch(() => {});
    throw storeFailure(error, backend);
  }
  return new KyselyStore({
    db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }),
    dialect: 'postgres',
    backend,
    now: options.now,
  });
}
