// The store a spec names: a postgres:// or postgresql:// URL is PostgreSQL, anything else the
// path of an SQLite file (the default, in the data dir).

import { describePostgres } from './postgres/postgres-url.ts';
import { openSqliteStore } from './sqlite/sqlite-store.ts';
import type { Store } from './store.ts';

export interface OpenStoreOptions {
  /** The clock, for tests of expiry. */
  readonly now?: (() => number) | undefined;
  /** PostgreSQL: an idle connection's failure, for the log. */
  readonly onIdleError?: (error: Error) => void;
}

/** Whether a store spec names PostgreSQL. */
export function isPostgresSpec(spec: string): boolean {
  return /^postgres(ql)?:\/\//i.test(spec);
}

/** The store a spec names, for messages: the file, or the database without its password. */
export function describeStore(spec: string): string {
  return isPostgresSpec(spec) ? describePostgres(spec) : spec;
}

export async function openStore(spec: string, options: OpenStoreOptions = {}): Promise<Store> {
  if (isPostgresSpec(spec)) {
    // Loaded only then: an SQLite server does not carry the PostgreSQL client in its memory.
    const { openPostgresStore } = await import('./postgres/postgres-store.ts');
    return openPostgresStore(spec, {
      now: options.now,
      ...(options.onIdleError === undefined ? {} : { onIdleError: options.onIdleError }),
    });
  }
  return openSqliteStore(spec, { now: options.now });
}
