// SQLite answers SQLITE_BUSY at once when another process (a `user` command, a backup tool)
// holds the write lock; node:sqlite's own busy timeout would spin on the event loop until the
// lock goes, freezing the API and every control session. This driver waits between tries with
// timers instead, so the server keeps serving while one statement waits, and gives up with the
// BUSY error (store_unavailable) once the budget is spent.
//
// Retrying one statement is safe: a BUSY statement did nothing. Transactions begin IMMEDIATE
// (node-sqlite-database.ts), so it is their BEGIN that waits, before any of their writes.

import { setTimeout as sleep } from 'node:timers/promises';
import type { CompiledQuery, DatabaseConnection, Driver, QueryResult, TransactionSettings } from 'kysely';

/** SQLite's primary result code BUSY: another connection holds the lock. */
const SQLITE_BUSY = 5;
const FIRST_WAIT_MS = 2;
const LONGEST_WAIT_MS = 50;

export function isSqliteBusy(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const errcode = (error as { errcode?: unknown }).errcode;
  return typeof errcode === 'number' && (errcode & 0xff) === SQLITE_BUSY;
}

function retrying(connection: DatabaseConnection, budgetMs: number): DatabaseConnection {
  return {
    async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
      const deadline = Date.now() + budgetMs;
      for (let wait = FIRST_WAIT_MS; ; wait = Math.min(wait * 2, LONGEST_WAIT_MS)) {
        try {
          return await connection.executeQuery<R>(query);
        } catch (error) {
          const left = deadline - Date.now();
          if (!isSqliteBusy(error) || left <= 0) throw error;
          await sleep(Math.min(wait, left));
        }
      }
    },
    streamQuery: (query, chunkSize) => connection.streamQuery(query, chunkSize),
  };
}

/** `driver` with each statement that meets a held lock tried again, for at most `budgetMs`. */
export class BusyRetryDriver implements Driver {
  private readonly driver: Driver;
  private readonly budgetMs: number;

  constructor(driver: Driver, budgetMs: number) {
    this.driver = driver;
    this.budgetMs = budgetMs;
  }

  init(options?: Parameters<Driver['init']>[0]): Promise<void> {
    return this.driver.init(options);
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return retrying(await this.driver.acquireConnection(), this.budgetMs);
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.driver.beginTransaction(connection, settings);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.driver.commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.driver.rollbackTransaction(connection);
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.driver.releaseConnection(connection);
  }

  destroy(): Promise<void> {
    return this.driver.destroy();
  }
}
