// The audit trail in SQLite: append-only, read newest first.

import type { AuditChange, AuditEntry } from '../records.ts';
import type { AuditFilter, AuditStore } from '../store.ts';
import type { SqliteScope } from './sqlite-connection.ts';
import { num, str, strOrNull } from './sqlite-row.ts';

function parseChange(json: string | null): AuditChange | null {
  return json === null ? null : (JSON.parse(json) as AuditChange);
}

export class SqliteAuditStore implements AuditStore {
  private readonly scope: SqliteScope;

  constructor(scope: SqliteScope) {
    this.scope = scope;
  }

  add(
    entry: Omit<AuditEntry, 'at' | 'id' | 'change'> & { at?: number; change?: AuditChange | null },
  ): Promise<void> {
    return this.scope.use((db) => {
      db.run(
        'INSERT INTO audit (at, user, action, target, outcome, from_addr, change_json) VALUES (?, ?, ?, ?, ?, ?, ?)',
        entry.at ?? db.now(),
        entry.user,
        entry.action,
        entry.target,
        entry.outcome,
        entry.from,
        entry.change === undefined || entry.change === null ? null : JSON.stringify(entry.change),
      );
    });
  }

  list(filter: AuditFilter): Promise<AuditEntry[]> {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const add = (clause: string, value: string | number | undefined): void => {
      if (value === undefined) return;
      where.push(clause);
      args.push(value);
    };
    add('user = ?', filter.user);
    add('action = ?', filter.action);
    add('at >= ?', filter.since);
    add('at < ?', filter.until);
    add('id < ?', filter.before);
    const sql = `SELECT * FROM audit ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`} ORDER BY id DESC LIMIT ?`;
    return this.scope.use((db) =>
      db.all(sql, ...args, filter.limit).map((row) => ({
        id: num(row.id),
        at: num(row.at),
        user: strOrNull(row.user),
        action: str(row.action),
        target: strOrNull(row.target),
        outcome: str(row.outcome),
        from: strOrNull(row.from_addr),
        change: parseChange(strOrNull(row.change_json)),
      })),
    );
  }
}
