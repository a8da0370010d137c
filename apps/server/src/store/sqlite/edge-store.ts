// Edges and their one-time enrollment codes in SQLite. Codes and edge secrets are stored as
// their hash only.

import type { EdgeRecord, EnrollmentRecord, Redemption } from '../records.ts';
import { hashSecret, newId, newSecret, secretMatches } from '../secrets.ts';
import type { EdgeStore } from '../store.ts';
import type { SqliteConnection, SqliteScope } from './sqlite-connection.ts';
import { num, numOrNull, type Row, str, strOrNull } from './sqlite-row.ts';

const SECRET_PREFIX = 'sls_';

const EDGE_SELECT = `
  SELECT e.*, (SELECT COUNT(*) FROM rules r WHERE r.edge_id = e.id AND r.state != 'removed') AS rule_count
  FROM edges e`;

function toEdge(row: Row): EdgeRecord {
  return {
    id: str(row.id),
    name: str(row.name),
    version: numOrNull(row.version),
    createdAt: num(row.created_at),
    enrolledAt: numOrNull(row.enrolled_at),
    lastSeenAt: numOrNull(row.last_seen_at),
    revokedAt: numOrNull(row.revoked_at),
    rules: num(row.rule_count ?? 0),
  };
}

function getEdge(db: SqliteConnection, id: string): EdgeRecord | null {
  const row = db.get(`${EDGE_SELECT} WHERE e.id = ?`, id);
  return row === undefined ? null : toEdge(row);
}

function redeem(db: SqliteConnection, code: string): Redemption {
  const now = db.now();
  const row = db.get('SELECT * FROM enrollments WHERE code_hash = ?', hashSecret(code));
  if (row === undefined) return { ok: false, code: 'code_unknown', message: 'no such enrollment code' };
  const expiresAt = num(row.expires_at);
  if (row.used_at !== null) {
    return {
      ok: false,
      code: 'code_used',
      message: `the code was used at ${new Date(num(row.used_at)).toISOString()}`,
    };
  }
  if (row.superseded_at !== null) {
    return {
      ok: false,
      code: 'code_superseded',
      message: 'a newer code was made for this edge; use that one',
    };
  }
  if (expiresAt <= now) {
    return {
      ok: false,
      code: 'code_expired',
      message: `the code expired at ${new Date(expiresAt).toISOString()}`,
    };
  }
  const secret = newSecret(SECRET_PREFIX);
  const edgeId = str(row.edge_id);
  db.run('UPDATE enrollments SET used_at = ? WHERE id = ?', now, str(row.id));
  db.run(
    'UPDATE edges SET secret_hash = ?, enrolled_at = ?, revoked_at = NULL WHERE id = ?',
    hashSecret(secret),
    now,
    edgeId,
  );
  return { ok: true, edge: getEdge(db, edgeId)!, secret };
}

export class SqliteEdgeStore implements EdgeStore {
  private readonly scope: SqliteScope;

  constructor(scope: SqliteScope) {
    this.scope = scope;
  }

  find(idOrName: string): Promise<EdgeRecord | null> {
    return this.scope.use((db) => {
      const row =
        db.get(`${EDGE_SELECT} WHERE e.id = ?`, idOrName) ??
        db.get(`${EDGE_SELECT} WHERE e.name = ?`, idOrName);
      return row === undefined ? null : toEdge(row);
    });
  }

  get(id: string): Promise<EdgeRecord | null> {
    return this.scope.use((db) => getEdge(db, id));
  }

  list(): Promise<EdgeRecord[]> {
    return this.scope.use((db) => db.all(`${EDGE_SELECT} ORDER BY e.name`).map(toEdge));
  }

  rename(id: string, name: string): Promise<EdgeRecord | null> {
    return this.scope.use((db) => {
      const other = db.get('SELECT id FROM edges WHERE name = ? AND id != ?', name, id);
      if (other !== undefined) return null;
      db.run('UPDATE edges SET name = ? WHERE id = ?', name, id);
      return getEdge(db, id);
    });
  }

  revoke(id: string): Promise<EdgeRecord | null> {
    return this.scope.use((db) => {
      db.run('UPDATE edges SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?', db.now(), id);
      return getEdge(db, id);
    });
  }

  delete(id: string): Promise<boolean> {
    return this.scope.use((db) => db.run('DELETE FROM edges WHERE id = ?', id) > 0);
  }

  secretMatches(id: string, secret: string): Promise<boolean> {
    return this.scope.use((db) => {
      const row = db.get('SELECT secret_hash FROM edges WHERE id = ?', id);
      const hash = strOrNull(row?.secret_hash);
      return hash !== null && secretMatches(secret, hash);
    });
  }

  seen(id: string, version: number | null): Promise<void> {
    return this.scope.use((db) => {
      if (version === null) db.run('UPDATE edges SET last_seen_at = ? WHERE id = ?', db.now(), id);
      else db.run('UPDATE edges SET last_seen_at = ?, version = ? WHERE id = ?', db.now(), version, id);
    });
  }

  createEnrollment(
    name: string,
    ttlMs: number,
    createdBy: string | null,
  ): Promise<{ edge: EdgeRecord; enrollment: EnrollmentRecord; code: string }> {
    return this.scope.use((db) =>
      db.atomically(() => {
        const now = db.now();
        let edge = db.get('SELECT id FROM edges WHERE name = ?', name);
        if (edge === undefined) {
          const id = newId('e_');
          db.run('INSERT INTO edges (id, name, created_at) VALUES (?, ?, ?)', id, name, now);
          edge = { id };
        }
        const edgeId = str(edge.id);
        db.run(
          'UPDATE enrollments SET superseded_at = ? WHERE edge_id = ? AND used_at IS NULL AND superseded_at IS NULL',
          now,
          edgeId,
        );
        const code = newSecret('', 24);
        const enrollment: EnrollmentRecord = { id: newId('n_'), edgeId, expiresAt: now + ttlMs };
        db.run(
          `INSERT INTO enrollments (id, edge_id, code_hash, created_by, created_at, expires_at)
           VALUES (?, ?, ?, ?, ?, ?)`,
          enrollment.id,
          edgeId,
          hashSecret(code),
          createdBy,
          now,
          enrollment.expiresAt,
        );
        return { edge: getEdge(db, edgeId)!, enrollment, code };
      }),
    );
  }

  redeemEnrollment(code: string): Promise<Redemption> {
    return this.scope.use((db) => db.atomically(() => redeem(db, code)));
  }
}
