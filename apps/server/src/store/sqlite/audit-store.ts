// The audit trail in SQLite: append-only, read newest first.

import type { AuditEntry } from '../records.ts';
import type { AuditStore } from '../store.ts';
import type { SqliteScope } from './sqlite-connection.ts';
import { num, str, strOrNull } from './sqlite-row.ts';

export class SqliteAuditStore implements AuditStore {
  private readonly scope: SqliteScope;

  constructor(scope: SqliteScope) {
    this.scope = scope;
  }

  add(entry: Omit<AuditEntry, 'at'> & { at?: number }): Promise<void> {
    return this.scope.use((db) => {
      db.run(
        'INSERT INTO audit (at, user, action, target, outcome, from_addr) VALUES (?, ?, ?, ?, ?, ?)',
        entry.at ?? db.now(),
        entry.user,
        entry.action,
        entry.target,
        entry.outcome,
        entry.from,
      );
    });
  }

  list(limit: number): Promise<AuditEntry[]> {
    return this.scope.use((db) =>
      db.all('SELECT * FROM audit ORDER BY id DESC LIMIT ?', limit).map((row) => ({
        at: num(row.at),
        user: strOrNull(row.user),
        action: str(row.action),
        target: strOrNull(row.target),
        outcome: str(row.outcome),
        from: strOrNull(row.from_addr),
      })),
    );
  }
}
