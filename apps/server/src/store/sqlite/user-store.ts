// Users and their API tokens in SQLite. Tokens are stored as their hash only.

import type { Role, UserRecord } from '../records.ts';
import { hashSecret, newId, newSecret } from '../secrets.ts';
import type { UserStore } from '../store.ts';
import type { SqliteScope } from './sqlite-connection.ts';
import { num, type Row, str } from './sqlite-row.ts';

const TOKEN_PREFIX = 'slt_';

function toUser(row: Row): UserRecord {
  return {
    id: str(row.id),
    name: str(row.name),
    role: str(row.role) as Role,
    createdAt: num(row.created_at),
  };
}

export class SqliteUserStore implements UserStore {
  private readonly scope: SqliteScope;

  constructor(scope: SqliteScope) {
    this.scope = scope;
  }

  count(): Promise<number> {
    return this.scope.use((db) => num(db.get('SELECT COUNT(*) AS n FROM users')?.n));
  }

  create(name: string, role: Role): Promise<UserRecord> {
    return this.scope.use((db) => {
      const user: UserRecord = { id: newId('u_'), name, role, createdAt: db.now() };
      db.run(
        'INSERT INTO users (id, name, role, created_at) VALUES (?, ?, ?, ?)',
        user.id,
        name,
        role,
        user.createdAt,
      );
      return user;
    });
  }

  getByName(name: string): Promise<UserRecord | null> {
    return this.scope.use((db) => {
      const row = db.get('SELECT * FROM users WHERE name = ?', name);
      return row === undefined ? null : toUser(row);
    });
  }

  createToken(userId: string, label: string | null = null): Promise<{ id: string; token: string }> {
    return this.scope.use((db) => {
      const token = newSecret(TOKEN_PREFIX);
      const id = newId('t_');
      db.run(
        'INSERT INTO tokens (id, user_id, hash, label, created_at) VALUES (?, ?, ?, ?, ?)',
        id,
        userId,
        hashSecret(token),
        label,
        db.now(),
      );
      return { id, token };
    });
  }

  authenticate(token: string): Promise<UserRecord | null> {
    return this.scope.use((db) => {
      const row = db.get(
        `SELECT u.*, t.id AS token_id FROM tokens t JOIN users u ON u.id = t.user_id
         WHERE t.hash = ? AND t.revoked_at IS NULL`,
        hashSecret(token),
      );
      if (row === undefined) return null;
      db.run('UPDATE tokens SET last_used_at = ? WHERE id = ?', db.now(), str(row.token_id));
      return toUser(row);
    });
  }

  revokeToken(tokenId: string): Promise<boolean> {
    return this.scope.use(
      (db) =>
        db.run('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', db.now(), tokenId) > 0,
    );
  }

  tokenHashes(): Promise<string[]> {
    return this.scope.use((db) => db.all('SELECT hash FROM tokens').map((row) => str(row.hash)));
  }
}
