// Grants in SQLite, with their user's and edge's names joined in for the API's views.

import type { GrantProtocol, GrantRecord } from '../records.ts';
import { newId } from '../secrets.ts';
import type { GrantFilter, GrantStore, NewGrant } from '../store.ts';
import type { SqliteScope } from './sqlite-connection.ts';
import { num, type Row, str, strOrNull } from './sqlite-row.ts';

const SELECT = `SELECT g.*, u.name AS user_name, e.name AS edge_name FROM grants g
  JOIN users u ON u.id = g.user_id LEFT JOIN edges e ON e.id = g.edge_id`;

function toGrant(row: Row): GrantRecord {
  const protocols: GrantProtocol[] = [];
  if (num(row.tcp) === 1) protocols.push('tcp');
  if (num(row.udp) === 1) protocols.push('udp');
  return {
    id: str(row.id),
    userId: str(row.user_id),
    userName: str(row.user_name),
    edgeId: strOrNull(row.edge_id),
    edgeName: strOrNull(row.edge_name),
    portLo: num(row.port_lo),
    portHi: num(row.port_hi),
    protocols,
    createdAt: num(row.created_at),
  };
}

export class SqliteGrantStore implements GrantStore {
  private readonly scope: SqliteScope;

  constructor(scope: SqliteScope) {
    this.scope = scope;
  }

  create(grant: NewGrant): Promise<GrantRecord> {
    return this.scope.use((db) => {
      const id = newId('g_');
      db.run(
        `INSERT INTO grants (id, user_id, edge_id, port_lo, port_hi, tcp, udp, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        id,
        grant.userId,
        grant.edgeId,
        grant.portLo,
        grant.portHi,
        grant.protocols.includes('tcp') ? 1 : 0,
        grant.protocols.includes('udp') ? 1 : 0,
        db.now(),
      );
      return toGrant(db.get(`${SELECT} WHERE g.id = ?`, id)!);
    });
  }

  get(id: string): Promise<GrantRecord | null> {
    return this.scope.use((db) => {
      const row = db.get(`${SELECT} WHERE g.id = ?`, id);
      return row === undefined ? null : toGrant(row);
    });
  }

  list(filter: GrantFilter = {}): Promise<GrantRecord[]> {
    return this.scope.use((db) =>
      db
        .all(
          `${SELECT} WHERE (?1 IS NULL OR g.user_id = ?1)
           AND (?2 IS NULL OR g.edge_id = ?2 OR g.edge_id IS NULL) ORDER BY g.created_at, g.id`,
          filter.userId ?? null,
          filter.edgeId ?? null,
        )
        .map(toGrant),
    );
  }

  listByUser(userId: string): Promise<GrantRecord[]> {
    return this.scope.use((db) =>
      db.all(`${SELECT} WHERE g.user_id = ? ORDER BY g.created_at, g.id`, userId).map(toGrant),
    );
  }

  delete(id: string): Promise<boolean> {
    return this.scope.use((db) => db.run('DELETE FROM grants WHERE id = ?', id) > 0);
  }
}
