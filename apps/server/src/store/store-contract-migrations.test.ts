// Migrations on both backends: a new database comes to the same schema_version on each, a reopen
// changes nothing, a database from a newer server is refused, and PostgreSQL's baseline holds
// the same tables and columns as SQLite's schema; servers starting together migrate once.

import { rejectedCode, removeDir, tempDir } from '@sluice/test-kit';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.ts';
import { openStore } from './open-store.ts';
import { POSTGRES_MIGRATIONS } from './postgres-migrations.ts';
import { STORE_BACKENDS, useStoreBackend } from './store-backends.fixture.ts';
import { rawQuery } from './store-raw.fixture.ts';

/** The indexes made by name (not those behind PRIMARY KEY and UNIQUE columns), sorted. */
async function indexes(spec: string, backend: string): Promise<string[]> {
  const rows =
    backend === 'sqlite'
      ? await rawQuery(
          spec,
          "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'",
        )
      : await rawQuery(
          spec,
          "SELECT indexname AS name FROM pg_indexes WHERE schemaname = 'public' AND indexname NOT LIKE '%\\_pkey' AND indexname NOT LIKE '%\\_key'",
        );
  return rows.map((row) => String(row.name)).sort();
}

/** Every table's columns, sorted, as the catalog of the backend lists them. */
async function columns(spec: string, backend: string): Promise<Record<string, string[]>> {
  const rows =
    backend === 'sqlite'
      ? await rawQuery(
          spec,
          "SELECT m.name AS t, p.name AS c FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'",
        )
      : await rawQuery(
          spec,
          "SELECT table_name AS t, column_name AS c FROM information_schema.columns WHERE table_schema = 'public'",
        );
  const tables: Record<string, string[]> = {};
  for (const row of rows) {
    const table = String(row.t);
    tables[table] = [...(tables[table] ?? []), String(row.c)];
  }
  for (const list of Object.values(tables)) list.sort();
  return tables;
}

describe('migration lists', () => {
  it('end at the same version, so both backends report one schema_version', () => {
    expect(POSTGRES_MIGRATIONS.at(-1)!.version).toBe(SCHEMA_VERSION);
    expect(MIGRATIONS.at(-1)!.version).toBe(SCHEMA_VERSION);
    expect(SCHEMA_VERSION).toBe(9);
    // PostgreSQL begins at the baseline; later versions follow one by one.
    expect(POSTGRES_MIGRATIONS.map((m) => m.version)).toEqual(
      POSTGRES_MIGRATIONS.map((_, i) => POSTGRES_MIGRATIONS[0]!.version + i),
    );
  });
});

describe.each(STORE_BACKENDS)('migrations on %s', (backend) => {
  const fx = useStoreBackend(backend);

  it('bring a new database to the last version once; a reopen applies nothing', async () => {
    await (await fx.open()).close();
    await (await fx.open()).close();
    const versions = await rawQuery(fx.spec, 'SELECT version FROM schema_version ORDER BY version');
    expect(Math.max(...versions.map((row) => Number(row.version)))).toBe(SCHEMA_VERSION);
    const counts = new Map<number, number>();
    for (const row of versions) counts.set(Number(row.version), (counts.get(Number(row.version)) ?? 0) + 1);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  });

  it('refuse a database from a newer server with schema_too_new', async () => {
    await (await fx.open()).close();
    await rawQuery(fx.spec, 'INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)', [
      SCHEMA_VERSION + 1,
      'future',
      0,
    ]);
    expect(await rejectedCode(openStore(fx.spec))).toBe('schema_too_new');
  });
});

// PostgreSQL only: its baseline against SQLite's schema, and several servers on one database.
describe('migrations on postgres only', () => {
  const fx = useStoreBackend('postgres');

  it('the baseline has the tables and columns of the SQLite schema', async () => {
    await (await fx.open()).close();
    const sqlite = await sqliteSchema();
    expect(await columns(fx.spec, 'postgres')).toEqual(sqlite.columns);
    expect(await indexes(fx.spec, 'postgres')).toEqual(sqlite.indexes);
  });

  it('servers starting together migrate once', async () => {
    const stores = await Promise.all([fx.open(), fx.open(), fx.open()]);
    const versions = await rawQuery(fx.spec, 'SELECT version FROM schema_version ORDER BY version');
    expect(versions.map((row) => Number(row.version))).toEqual(POSTGRES_MIGRATIONS.map((m) => m.version));
    expect(await stores[2]!.users.count()).toBe(0);
  });
});

/** The SQLite schema's columns and indexes, from a fresh file. */
async function sqliteSchema(): Promise<{ columns: Record<string, string[]>; indexes: string[] }> {
  const dir = tempDir('sluice-schema-');
  try {
    const file = `${dir}/sluice.db`;
    await (await openStore(file)).close();
    return { columns: await columns(file, 'sqlite'), indexes: await indexes(file, 'sqlite') };
  } finally {
    removeDir(dir);
  }
}
