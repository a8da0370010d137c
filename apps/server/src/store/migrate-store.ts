// `sluice-server migrate-store --from DIR --to postgres://...`: a stopped server's SQLite store
// copied into an empty PostgreSQL database, then checked row by row. Both sides are migrated to
// the same schema version first, so the tables match column for column. The copy is one
// transaction: a failure leaves the target as empty as it was. Runtime state (which replica
// holds which edge's session, the replicas' heartbeats) is not copied; it is remade as servers
// start and edges connect.

import { type Kysely, sql } from 'kysely';
import { openDataDir } from '../data-dir.ts';
import { serverError } from '../errors.ts';
import { acquireStoreLock } from '../store-lock.ts';
import type { Database } from './database.ts';
import type { KyselyStore } from './kysely/kysely-store.ts';
import { isPostgresSpec } from './open-store.ts';
import { openPostgresStore } from './postgres/postgres-store.ts';
import { openSqliteStore } from './sqlite/sqlite-store.ts';

type TableName = Exclude<keyof Database, 'replicas' | 'edge_sessions' | 'schema_version'>;

/** The tables copied, each after those it references, with the columns that order its rows. */
const TABLES: ReadonlyArray<readonly [TableName, readonly string[]]> = [
  ['users', ['id']],
  ['tokens', ['id']],
  ['sessions', ['id']],
  ['edges', ['id']],
  ['enrollments', ['id']],
  ['rules', ['id']],
  ['rule_stats', ['rule_id']],
  ['audit', ['id']],
  ['grants', ['id']],
  ['owner_limits', ['edge_id', 'owner']],
  ['quotas', ['user_id', 'edge_id']],
  ['owner_usage', ['edge_id', 'owner']],
  ['traffic', ['width', 'rule_id', 'at']],
];

/** Rows per INSERT: far below PostgreSQL's 65,535 parameters at the widest table. */
const BATCH_ROWS = 500;

export interface MigratedTable {
  readonly table: string;
  readonly rows: number;
}

type Row = Record<string, unknown>;

// biome-ignore lint/suspicious/noExplicitAny: the table name is a runtime value of TABLES; the rows are copied as they come.
type AnyDb = Kysely<any>;

async function readAll(db: AnyDb, table: string, order: readonly string[]): Promise<Row[]> {
  let query = db.selectFrom(table).selectAll();
  for (const column of order) query = query.orderBy(column);
  return (await query.execute()) as Row[];
}

/** A row as compared: the same keys in the same order, numbers as numbers. */
function canonical(row: Row): string {
  return JSON.stringify(
    Object.keys(row)
      .sort()
      .map((key) => [key, row[key]]),
  );
}

export async function migrateStore(
  fromDir: string,
  toUrl: string,
  log: (line: string) => void,
): Promise<MigratedTable[]> {
  if (!isPostgresSpec(toUrl)) {
    throw serverError('usage', `--to: "${toUrl}" is not a postgres:// or postgresql:// URL`);
  }
  const dataDir = openDataDir(fromDir, { create: false });
  // The server must be stopped: what it writes after the copy would be lost.
  const lock = await acquireStoreLock(dataDir.path);
  let source: KyselyStore | null = null;
  let target: KyselyStore | null = null;
  try {
    source = openSqliteStore(dataDir.dbFile);
    target = await openPostgresStore(toUrl);
    const from = source.kysely as AnyDb;
    const to = target.kysely as AnyDb;
    for (const [table] of TABLES) {
      const found = await to
        .selectFrom(table)
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirst();
      if (Number(found?.n ?? 0) > 0) {
        throw serverError(
          'migrate_failed',
          `${target.describe} is not empty (table ${table} has rows); migrate into a new, empty database`,
        );
      }
    }
    const copied: MigratedTable[] = [];
    await to.transaction().execute(async (trx) => {
      for (const [table, order] of TABLES) {
        const rows = await readAll(from, table, order);
        for (let i = 0; i < rows.length; i += BATCH_ROWS) {
          await trx
            .insertInto(table)
            .values(rows.slice(i, i + BATCH_ROWS))
            .execute();
        }
        copied.push({ table, rows: rows.length });
        log(`copied ${table}: ${rows.length} rows`);
      }
      // audit ids were copied as they were; new entries must come after them.
      await sql`SELECT setval(pg_get_serial_sequence('audit', 'id'), COALESCE((SELECT MAX(id) FROM audit), 0) + 1, false)`.execute(
        trx,
      );
    });
    for (const [table, order] of TABLES) {
      const [left, right] = await Promise.all([readAll(from, table, order), readAll(to, table, order)]);
      if (left.length !== right.length) {
        throw serverError(
          'migrate_failed',
          `${table}: ${left.length} rows in SQLite, ${right.length} in PostgreSQL`,
        );
      }
      for (let i = 0; i < left.length; i++) {
        const a = canonical(left[i]!);
        const b = canonical(right[i]!);
        if (a !== b) {
          throw serverError(
            'migrate_failed',
            `${table} row ${i + 1} differs after the copy: ${a} versus ${b}`,
          );
        }
      }
    }
    log(`verified every row of ${TABLES.length} tables`);
    return copied;
  } finally {
    await source?.close();
    await target?.close();
    await lock.release();
  }
}
