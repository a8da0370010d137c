// What every aggregate of the query layer works through: the Kysely handle (the store's own, or
// one transaction's), the backend's dialect, and the clock. The few places where SQLite and
// PostgreSQL differ ask `postgres` here, so each aggregate is written once for both.

import { type Kysely, sql } from 'kysely';
import type { Database } from '../database.ts';

export type StoreDialect = 'sqlite' | 'postgres';

/** What a store keeps between calls, shared by its transactions. */
export interface StoreState {
  /** When traffic history was last pruned (traffic-store.ts); undefined: never. */
  lastPruneAt: number | undefined;
}

export class StoreContext {
  readonly db: Kysely<Database>;
  readonly dialect: StoreDialect;
  readonly now: () => number;
  /** Whether `db` is a transaction already. */
  readonly inTransaction: boolean;
  readonly state: StoreState;

  constructor(
    db: Kysely<Database>,
    dialect: StoreDialect,
    now: () => number,
    inTransaction: boolean,
    state: StoreState,
  ) {
    this.db = db;
    this.dialect = dialect;
    this.now = now;
    this.inTransaction = inTransaction;
    this.state = state;
  }

  /** The same store's context bound to the transaction `trx`. */
  within(trx: Kysely<Database>): StoreContext {
    return new StoreContext(trx, this.dialect, this.now, true, this.state);
  }

  /**
   * PostgreSQL has many connections, so a read that a write depends on must lock the rows it
   * read (FOR UPDATE). SQLite's write transactions are exclusive already, and its syntax has no
   * row locks.
   */
  get postgres(): boolean {
    return this.dialect === 'postgres';
  }

  /**
   * Runs `fn` all or nothing: in a transaction of its own, or, inside a store transaction, in a
   * savepoint, so a throw undoes its part and the transaction goes on.
   */
  async atomically<T>(fn: (ctx: StoreContext) => Promise<T>): Promise<T> {
    if (!this.inTransaction) {
      return this.db.transaction().execute((trx) => fn(this.within(trx)));
    }
    await sql`savepoint atomically`.execute(this.db);
    try {
      const result = await fn(this);
      await sql`release savepoint atomically`.execute(this.db);
      return result;
    } catch (error) {
      await sql`rollback to savepoint atomically`.execute(this.db);
      await sql`release savepoint atomically`.execute(this.db);
      throw error;
    }
  }
}

/** The rows an UPDATE or DELETE changed, as Kysely answers them (bigint). */
export function changed(result: { numUpdatedRows?: bigint; numDeletedRows?: bigint }): number {
  return Number(result.numUpdatedRows ?? result.numDeletedRows ?? 0n);
}
