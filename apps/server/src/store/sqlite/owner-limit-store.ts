// Owner caps per edge in SQLite: one row per (edge, owner), the limits table as JSON.

import type { OwnerLimitsRecord } from '../records.ts';
import type { OwnerLimitStore } from '../store.ts';
import type { SqliteScope } from './sqlite-connection.ts';
import { num, type Row, str } from './sqlite-row.ts';

function toOwnerLimits(row: Row): OwnerLimitsRecord {
  return {
    edgeId: str(row.edge_id),
    owner: str(row.owner),
    limits: JSON.parse(str(row.limits)) as Record<string, unknown>,
    updatedAt: num(row.updated_at),
  };
}

export class SqliteOwnerLimitStore implements OwnerLimitStore {
  private readonly scope: SqliteScope;

  constructor(scope: SqliteScope) {
    this.scope = scope;
  }

  get(edgeId: string, owner: string): Promise<OwnerLimitsRecord | null> {
    return this.scope.use((db) => {
      const row = db.get('SELECT * FROM owner_limits WHERE edge_id = ? AND owner = ?', edgeId, owner);
      return row === undefined ? null : toOwnerLimits(row);
    });
  }

  ofEdge(edgeId: string): Promise<Record<string, Record<string, unknown>>> {
    return this.scope.use((db) => {
      const owners: Record<string, Record<string, unknown>> = {};
      for (const row of db.all('SELECT * FROM owner_limits WHERE edge_id = ? ORDER BY owner', edgeId)) {
        const record = toOwnerLimits(row);
        owners[record.owner] = record.limits;
      }
      return owners;
    });
  }

  set(edgeId: string, owner: string, limits: Record<string, unknown>): Promise<OwnerLimitsRecord> {
    return this.scope.use((db) => {
      const record: OwnerLimitsRecord = { edgeId, owner, limits, updatedAt: db.now() };
      db.run(
        `INSERT INTO owner_limits (edge_id, owner, limits, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (edge_id, owner) DO UPDATE SET limits = excluded.limits, updated_at = excluded.updated_at`,
        edgeId,
        owner,
        JSON.stringify(limits),
        record.updatedAt,
      );
      return record;
    });
  }

  delete(edgeId: string, owner: string): Promise<boolean> {
    return this.scope.use(
      (db) => db.run('DELETE FROM owner_limits WHERE edge_id = ? AND owner = ?', edgeId, owner) > 0,
    );
  }
}
