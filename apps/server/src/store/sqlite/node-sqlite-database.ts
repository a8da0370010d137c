// node:sqlite's DatabaseSync in the shape Kysely's SqliteDialect drives (the better-sqlite3
// subset it names SqliteDatabase), with prepared statements cached by their text: the store
// runs the same few hundred statements over and over, and preparing is most of a small
// statement's cost.

import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/** Statements kept prepared; past it the least recently used goes (IN lists vary in length). */
const CACHED_STATEMENTS = 512;

function adapt(statement: StatementSync): SqliteStatement {
  const values = (parameters: ReadonlyArray<unknown>) => parameters as SQLInputValue[];
  return {
    // A statement that answers columns (SELECT, or any RETURNING) is read with all().
    reader: statement.columns().length > 0,
    all: (parameters) => statement.all(...values(parameters)),
    run: (parameters) => statement.run(...values(parameters)),
    iterate: (parameters) => statement.iterate(...values(parameters)),
  };
}

export class NodeSqliteDatabase implements SqliteDatabase {
  private readonly db: DatabaseSync;
  private readonly statements = new Map<string, SqliteStatement>();

  constructor(db: DatabaseSync) {
    this.db = db;
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }

  prepare(text: string): SqliteStatement {
    let statement = this.statements.get(text);
    if (statement !== undefined) {
      // Most recently used last, so the oldest entry is the one to evict.
      this.statements.delete(text);
    } else {
      // Kysely begins with a deferred BEGIN; a transaction that reads then writes would then
      // fail with SQLITE_BUSY when another process (a `user` command beside the server) wrote
      // in between. IMMEDIATE takes the write lock up front, waiting out the busy timeout.
      statement = adapt(this.db.prepare(text === 'begin' ? 'BEGIN IMMEDIATE' : text));
      if (this.statements.size >= CACHED_STATEMENTS) {
        const oldest = this.statements.keys().next();
        if (oldest.done !== true) this.statements.delete(oldest.value);
      }
    }
    this.statements.set(text, statement);
    return statement;
  }
}
