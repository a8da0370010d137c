// The one SQLite connection of a store: the database file opened (mode 0600, WAL) and migrated,
// prepared statements cached by their text, and the clock. Synchronous: the aggregates run
// their statements through a SqliteScope, which decides when they may.

import { closeSync, openSync } from 'node:fs';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { serverError } from '../../errors.ts';
import { migrate } from '../migrations.ts';
import type { Row } from './sqlite-row.ts';

export class SqliteConnection {
  readonly now: () => number;
  private readonly db: DatabaseSync;
  private readonly statements = new Map<string, StatementSync>();

  constructor(file: string, now: () => number) {
    this.now = now;
    try {
      // SQLite makes the file (and its -wal and -shm, which copy its mode) with the umask's
      // mode; the database holds token and secret hashes, so it is made 0600 first.
      if (file !== ':memory:') closeSync(openSync(file, 'a', 0o600));
      this.db = new DatabaseSync(file, { enableForeignKeyConstraints: true, timeout: 5000 });
      // WAL: a backup (another process) reads while the server writes, neither blocking.
      this.db.exec('PRAGMA journal_mode = WAL');
      this.db.exec('PRAGMA synchronous = NORMAL');
    } catch (error) {
      throw serverError('store_unusable', `${file}: ${(error as Error).message}`);
    }
    try {
      migrate(this.db, file);
    } catch (error) {
      this.db.close();
      throw error;
    }
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }

  private sql(text: string): StatementSync {
    let statement = this.statements.get(text);
    if (statement === undefined) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  get(text: string, ...params: SQLInputValue[]): Row | undefined {
    return this.sql(text).get(...params) as Row | undefined;
  }

  all(text: string, ...params: SQLInputValue[]): Row[] {
    return this.sql(text).all(...params) as Row[];
  }

  /** Runs a statement; answers the rows it changed. */
  run(text: string, ...params: SQLInputValue[]): number {
    return Number(this.sql(text).run(...params).changes);
  }

  begin(): void {
    this.db.exec('BEGIN IMMEDIATE');
  }

  commit(): void {
    this.db.exec('COMMIT');
  }

  rollback(): void {
    this.db.exec('ROLLBACK');
  }

  /**
   * Runs synchronous `fn` all or nothing: in a transaction of its own, or, inside a store
   * transaction, in a savepoint, so a throw undoes its part and the transaction goes on.
   */
  atomically<T>(fn: () => T): T {
    const nested = this.db.isTransaction;
    this.db.exec(nested ? 'SAVEPOINT atomically' : 'BEGIN IMMEDIATE');
    try {
      const result = fn();
      this.db.exec(nested ? 'RELEASE atomically' : 'COMMIT');
      return result;
    } catch (error) {
      this.db.exec(nested ? 'ROLLBACK TO atomically; RELEASE atomically' : 'ROLLBACK');
      throw error;
    }
  }
}

/**
 * Where an aggregate's statements run: on the store, they wait for their turn (see
 * serial-queue.ts); inside a transaction, at once, on the connection it holds.
 */
export interface SqliteScope {
  use<T>(work: (db: SqliteConnection) => T): Promise<T>;
}
