// Users, their API tokens and their web sessions in SQLite. Tokens and session cookies are
// stored as their hash only.

import type { Role, SessionRecord, TokenRecord, UserRecord } from '../records.ts';
import { hashSecret, newId, newSecret } from '../secrets.ts';
import type { UserStore } from '../store.ts';
import type { SqliteScope } from './sqlite-connection.ts';
import { num, numOrNull, type Row, str, strOrNull } from './sqlite-row.ts';

const TOKEN_PREFIX = 'slt_';
const SESSION_PREFIX = 'sls_';

function toUser(row: Row): UserRecord {
  const name = str(row.name);
  return {
    id: str(row.id),
    name,
    displayName: strOrNull(row.display_name) ?? name,
    role: str(row.role) as Role,
    createdAt: num(row.created_at),
    disabled: numOrNull(row.disabled_at) !== null,
    hasPassword: strOrNull(row.password_hash) !== null,
    mustChangePassword: num(row.must_change_password) === 1,
  };
}

function toToken(row: Row): TokenRecord {
  return {
    id: str(row.id),
    userId: str(row.user_id),
    name: strOrNull(row.label) ?? '',
    createdAt: num(row.created_at),
    lastUsedAt: numOrNull(row.last_used_at),
    revokedAt: numOrNull(row.revoked_at),
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

  create(name: string, role: Role, displayName: string | null = null): Promise<UserRecord> {
    return this.scope.use((db) => {
      const id = newId('u_');
      db.run(
        'INSERT INTO users (id, name, role, created_at, display_name) VALUES (?, ?, ?, ?, ?)',
        id,
        name,
        role,
        db.now(),
        displayName,
      );
      return toUser(db.get('SELECT * FROM users WHERE id = ?', id)!);
    });
  }

  list(): Promise<UserRecord[]> {
    return this.scope.use((db) => db.all('SELECT * FROM users ORDER BY name').map(toUser));
  }

  getByName(name: string): Promise<UserRecord | null> {
    return this.scope.use((db) => {
      const row = db.get('SELECT * FROM users WHERE name = ?', name);
      return row === undefined ? null : toUser(row);
    });
  }

  find(idOrName: string): Promise<UserRecord | null> {
    return this.scope.use((db) => {
      const row =
        db.get('SELECT * FROM users WHERE id = ?', idOrName) ??
        db.get('SELECT * FROM users WHERE name = ?', idOrName);
      return row === undefined ? null : toUser(row);
    });
  }

  update(id: string, change: { displayName?: string; disabled?: boolean }): Promise<UserRecord | null> {
    return this.scope.use((db) => {
      if (change.displayName !== undefined) {
        db.run('UPDATE users SET display_name = ? WHERE id = ?', change.displayName, id);
      }
      if (change.disabled === true) {
        db.run('UPDATE users SET disabled_at = ? WHERE id = ? AND disabled_at IS NULL', db.now(), id);
      } else if (change.disabled === false) {
        db.run('UPDATE users SET disabled_at = NULL WHERE id = ?', id);
      }
      const row = db.get('SELECT * FROM users WHERE id = ?', id);
      return row === undefined ? null : toUser(row);
    });
  }

  delete(id: string): Promise<{ tokens: number; sessions: number } | null> {
    return this.scope.use((db) => {
      const tokens = num(db.get('SELECT COUNT(*) AS n FROM tokens WHERE user_id = ?', id)?.n);
      const sessions = num(db.get('SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?', id)?.n);
      // Tokens and sessions go with the user (ON DELETE CASCADE).
      return db.run('DELETE FROM users WHERE id = ?', id) > 0 ? { tokens, sessions } : null;
    });
  }

  passwordHash(id: string): Promise<string | null> {
    return this.scope.use((db) =>
      strOrNull(db.get('SELECT password_hash FROM users WHERE id = ?', id)?.password_hash),
    );
  }

  setPassword(id: string, hash: string, mustChange: boolean): Promise<void> {
    return this.scope.use((db) => {
      db.run(
        'UPDATE users SET password_hash = ?, must_change_password = ? WHERE id = ?',
        hash,
        mustChange ? 1 : 0,
        id,
      );
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

  listTokens(userId: string): Promise<TokenRecord[]> {
    return this.scope.use((db) =>
      db.all('SELECT * FROM tokens WHERE user_id = ? ORDER BY created_at, id', userId).map(toToken),
    );
  }

  authenticate(token: string): Promise<UserRecord | null> {
    return this.scope.use((db) => {
      const row = db.get(
        `SELECT u.*, t.id AS token_id FROM tokens t JOIN users u ON u.id = t.user_id
         WHERE t.hash = ? AND t.revoked_at IS NULL AND u.disabled_at IS NULL`,
        hashSecret(token),
      );
      if (row === undefined) return null;
      db.run('UPDATE tokens SET last_used_at = ? WHERE id = ?', db.now(), str(row.token_id));
      return toUser(row);
    });
  }

  revokeToken(userId: string, tokenId: string): Promise<TokenRecord | null> {
    return this.scope.use((db) => {
      db.run(
        'UPDATE tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL',
        db.now(),
        tokenId,
        userId,
      );
      const row = db.get('SELECT * FROM tokens WHERE id = ? AND user_id = ?', tokenId, userId);
      return row === undefined ? null : toToken(row);
    });
  }

  tokenHashes(): Promise<string[]> {
    return this.scope.use((db) => db.all('SELECT hash FROM tokens').map((row) => str(row.hash)));
  }

  createSession(userId: string): Promise<{ id: string; cookie: string }> {
    return this.scope.use((db) => {
      const cookie = newSecret(SESSION_PREFIX);
      const id = newId('s_');
      const now = db.now();
      db.run(
        'INSERT INTO sessions (id, user_id, hash, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)',
        id,
        userId,
        hashSecret(cookie),
        now,
        now,
      );
      return { id, cookie };
    });
  }

  session(cookie: string, idleMs: number, maxAgeMs: number): Promise<SessionRecord | null> {
    return this.scope.use((db) => {
      const row = db.get(
        `SELECT u.*, s.id AS session_id, s.created_at AS session_created_at, s.last_seen_at
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.hash = ?`,
        hashSecret(cookie),
      );
      if (row === undefined) return null;
      const now = db.now();
      const id = str(row.session_id);
      const expired = now - num(row.last_seen_at) > idleMs || now - num(row.session_created_at) > maxAgeMs;
      if (expired) {
        db.run('DELETE FROM sessions WHERE id = ?', id);
        return null;
      }
      if (numOrNull(row.disabled_at) !== null) return null;
      db.run('UPDATE sessions SET last_seen_at = ? WHERE id = ?', now, id);
      return { id, user: toUser(row), createdAt: num(row.session_created_at), lastSeenAt: now };
    });
  }

  deleteSession(id: string): Promise<void> {
    return this.scope.use((db) => {
      db.run('DELETE FROM sessions WHERE id = ?', id);
    });
  }

  deleteSessions(userId: string, exceptId: string | null = null): Promise<number> {
    return this.scope.use((db) =>
      db.run('DELETE FROM sessions WHERE user_id = ? AND id IS NOT ?', userId, exceptId),
    );
  }
}
