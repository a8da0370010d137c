// Plain SQL on a contract test's database, beside the store under test: what the store API does
// not reach (schema_version, the catalog), through each backend's own client.

import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import { isPostgresSpec } from './open-store.ts';

/** Runs `text` (`?` placeholders) on the database of `spec`; answers the rows. */
export async function rawQuery(
  spec: string,
  text: string,
  params: unknown[] = [],
): Promise<Record<string, unknown>[]> {
  if (!isPostgresSpec(spec)) {
    const db = new DatabaseSync(spec);
    try {
      return db.prepare(text).all(...(params as (string | number | null)[])) as Record<string, unknown>[];
    } finally {
      db.close();
    }
  }
  let n = 0;
  const client = new pg.Client({ connectionString: spec });
  await client.connect();
  try {
    return (
      await client.query(
        text.replace(/\?/g, () => `$${++n}`),
        params,
      )
    ).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}
