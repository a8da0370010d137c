// The database schema as an ordered list of migrations. Each runs once, in its own transaction,
// and `schema_version` records how far a database has come. A database from a newer server is
// refused (schema_too_new) instead of being opened: an older server would not know its columns
// and could silently drop what they mean.
//
// Never edit a migration that has shipped; add the next one.

import type { DatabaseSync } from 'node:sqlite';
import { serverError } from '../errors.ts';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'users, tokens, edges, enrollments, rules, rule stats, audit',
    sql: `
      CREATE TABLE users (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL CHECK (role IN ('admin', 'user')),
        created_at INTEGER NOT NULL
      );
      -- Only the SHA-256 of a token is kept: a leaked database grants nothing.
      CREATE TABLE tokens (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        hash TEXT NOT NULL UNIQUE,
        label TEXT,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER,
        last_used_at INTEGER
      );
      CREATE TABLE edges (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        secret_hash TEXT,
        version INTEGER,
        created_at INTEGER NOT NULL,
        enrolled_at INTEGER,
        last_seen_at INTEGER,
        revoked_at INTEGER
      );
      CREATE TABLE enrollments (
        id TEXT PRIMARY KEY,
        edge_id TEXT NOT NULL REFERENCES edges(id) ON DELETE CASCADE,
        code_hash TEXT NOT NULL UNIQUE,
        created_by TEXT,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        used_at INTEGER,
        superseded_at INTEGER
      );
      CREATE INDEX enrollments_edge ON enrollments(edge_id);
      CREATE TABLE rules (
        id TEXT PRIMARY KEY,
        edge_id TEXT NOT NULL REFERENCES edges(id) ON DELETE CASCADE,
        owner TEXT NOT NULL,
        name TEXT NOT NULL,
        revision INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'active', 'failed', 'removed')),
        reason TEXT,
        message TEXT,
        body TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX rules_edge ON rules(edge_id);
      -- A removed rule stays as a tombstone until its edge confirms; only live rules hold a name.
      CREATE UNIQUE INDEX rules_edge_name ON rules(edge_id, name) WHERE state != 'removed';
      -- Totals since the rule was created, and the edge's last cumulative report (per bootId)
      -- that the next report's delta is taken against.
      CREATE TABLE rule_stats (
        rule_id TEXT PRIMARY KEY REFERENCES rules(id) ON DELETE CASCADE,
        at INTEGER NOT NULL,
        bytes_in REAL NOT NULL DEFAULT 0,
        bytes_out REAL NOT NULL DEFAULT 0,
        connections_total REAL NOT NULL DEFAULT 0,
        active_connections REAL NOT NULL DEFAULT 0,
        rejected REAL NOT NULL DEFAULT 0,
        connect_errors REAL NOT NULL DEFAULT 0,
        bytes_in_per_sec REAL NOT NULL DEFAULT 0,
        bytes_out_per_sec REAL NOT NULL DEFAULT 0,
        boot_id TEXT NOT NULL,
        last_bytes_in REAL NOT NULL DEFAULT 0,
        last_bytes_out REAL NOT NULL DEFAULT 0,
        last_connections_total REAL NOT NULL DEFAULT 0,
        last_rejected REAL NOT NULL DEFAULT 0,
        last_connect_errors REAL NOT NULL DEFAULT 0
      );
      CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        user TEXT,
        action TEXT NOT NULL,
        target TEXT,
        outcome TEXT NOT NULL,
        from_addr TEXT
      );
    `,
  },
  {
    version: 2,
    name: 'users: display name, disabled, password; token names; web sessions',
    sql: `
      ALTER TABLE users ADD COLUMN display_name TEXT;
      ALTER TABLE users ADD COLUMN disabled_at INTEGER;
      -- argon2id, self-describing ($argon2id$v=19$m=...,t=...,p=...$salt$hash); NULL: tokens only.
      ALTER TABLE users ADD COLUMN password_hash TEXT;
      -- Set by an admin's reset: a session may only change the password until it is.
      ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
      -- Only the SHA-256 of a session cookie is kept, as for tokens.
      CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        hash TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        last_seen_at INTEGER NOT NULL
      );
      CREATE INDEX sessions_user ON sessions(user_id);
      CREATE INDEX tokens_user ON tokens(user_id);
    `,
  },
  {
    version: 3,
    name: 'audit: what a change changed',
    sql: `
      -- JSON { "before", "after" } of the object a change acted on; NULL for denials and reads.
      ALTER TABLE audit ADD COLUMN change_json TEXT;
    `,
  },
  {
    version: 4,
    name: 'grants, owner limits',
    sql: `
      -- edge_id NULL is a grant on every edge (*).
      CREATE TABLE grants (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        edge_id TEXT REFERENCES edges(id) ON DELETE CASCADE,
        port_lo INTEGER NOT NULL,
        port_hi INTEGER NOT NULL,
        tcp INTEGER NOT NULL,
        udp INTEGER NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX grants_user ON grants(user_id);
      CREATE INDEX grants_edge ON grants(edge_id);
      -- An owner's [owners.NAME] limits table on one edge, as validated JSON.
      CREATE TABLE owner_limits (
        edge_id TEXT NOT NULL REFERENCES edges(id) ON DELETE CASCADE,
        owner TEXT NOT NULL,
        limits TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (edge_id, owner)
      );
    `,
  },
  {
    version: 5,
    name: 'monthly quotas per (user, edge), owner usage per edge',
    sql: `
      -- Times are epoch ms. The period holding now runs [period_start, period_end); used_bytes
      -- counts in it. exhausted_at: when used_bytes first reached monthly_bytes this period.
      CREATE TABLE quotas (
        user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        edge_id TEXT NOT NULL REFERENCES edges(id) ON DELETE CASCADE,
        monthly_bytes INTEGER NOT NULL,
        period_anchor INTEGER NOT NULL,
        period_start INTEGER NOT NULL,
        period_end INTEGER NOT NULL,
        used_bytes INTEGER NOT NULL DEFAULT 0,
        exhausted_at INTEGER,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (user_id, edge_id)
      );
      CREATE INDEX quotas_edge ON quotas(edge_id);
      CREATE INDEX quotas_period_end ON quotas(period_end);
      -- The edge's last cumulative bytes per owner (stats 'owners'), under its boot id: the
      -- next report's delta is taken against it, as rule_stats does for rules.
      CREATE TABLE owner_usage (
        edge_id TEXT NOT NULL REFERENCES edges(id) ON DELETE CASCADE,
        owner TEXT NOT NULL,
        boot_id TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        PRIMARY KEY (edge_id, owner)
      );
    `,
  },
  {
    version: 6,
    name: 'traffic history',
    sql: `
      -- Bytes per rule in buckets of width ms (60000: 1 minute, kept 7 days; 3600000: 1 hour,
      -- kept 400 days) starting at at (epoch ms). No reference to rules or edges: a removed
      -- rule's history stays, queryable by the edge and the owner it had, until it expires.
      CREATE TABLE traffic (
        width INTEGER NOT NULL,
        at INTEGER NOT NULL,
        rule_id TEXT NOT NULL,
        edge_id TEXT NOT NULL,
        owner TEXT NOT NULL,
        bytes_in REAL NOT NULL DEFAULT 0,
        bytes_out REAL NOT NULL DEFAULT 0,
        PRIMARY KEY (width, rule_id, at)
      );
      -- Queries by edge, by owner, or over everything, for a time range; each index holds the
      -- byte columns so a query reads the index alone. traffic_at also serves the pruning.
      CREATE INDEX traffic_edge ON traffic(width, edge_id, at, bytes_in, bytes_out);
      CREATE INDEX traffic_owner ON traffic(width, owner, at, bytes_in, bytes_out);
      CREATE INDEX traffic_at ON traffic(width, at, bytes_in, bytes_out);
    `,
  },
  {
    version: 7,
    name: 'rule stats: rejects by reason',
    sql: `
      -- JSON { reason: count }: the totals since the rule was created, and the edge's last
      -- cumulative report (per boot_id) the next delta is taken against.
      ALTER TABLE rule_stats ADD COLUMN rejected_by_reason TEXT NOT NULL DEFAULT '{}';
      ALTER TABLE rule_stats ADD COLUMN last_rejected_by_reason TEXT NOT NULL DEFAULT '{}';
    `,
  },
  {
    version: 8,
    name: 'replicas and edge sessions',
    sql: `
      -- The sluice-server processes sharing the database, each alive while its heartbeat is fresh.
      CREATE TABLE replicas (
        id TEXT PRIMARY KEY,
        control_host TEXT NOT NULL,
        control_port INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        heartbeat_at INTEGER NOT NULL
      );
      -- Which replica holds each edge's one control session. No reference to replicas: a
      -- replica that died leaves its records until another claims the edge.
      CREATE TABLE edge_sessions (
        edge_id TEXT PRIMARY KEY REFERENCES edges(id) ON DELETE CASCADE,
        replica_id TEXT NOT NULL,
        session_id TEXT NOT NULL,
        boot_id TEXT NOT NULL,
        since INTEGER NOT NULL
      );
      CREATE INDEX edge_sessions_replica ON edge_sessions(replica_id);
    `,
  },
  {
    version: 9,
    name: 'rule listen ports, indexed for the overlap check',
    sql: `
      -- The overlap check of a push reads only the live rules of the edge on the pushed ports:
      -- each rule's protocol, first listen port and width beside its JSON body. Rules written
      -- before this version have none until their edge's next push fills them in.
      ALTER TABLE rules ADD COLUMN protocol TEXT;
      ALTER TABLE rules ADD COLUMN port_lo INTEGER;
      ALTER TABLE rules ADD COLUMN port_span INTEGER;
      CREATE INDEX rules_edge_ports ON rules(edge_id, protocol, port_lo) WHERE state != 'removed';
      CREATE INDEX rules_edge_span ON rules(edge_id, protocol, port_span) WHERE state != 'removed';
      CREATE INDEX rules_edge_unkeyed ON rules(edge_id) WHERE port_lo IS NULL AND state != 'removed';
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS.at(-1)!.version;

/** The version a database is at; 0 for a new, empty one. */
export function schemaVersion(db: DatabaseSync): number {
  const table = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'")
    .get();
  if (table === undefined) return 0;
  const row = db.prepare('SELECT MAX(version) AS version FROM schema_version').get();
  return Number(row?.version ?? 0);
}

/** The versions recorded as applied (a gap left by a reserved version is not among them). */
function appliedVersions(db: DatabaseSync): Set<number> {
  if (schemaVersion(db) === 0) return new Set();
  return new Set(
    db
      .prepare('SELECT version FROM schema_version')
      .all()
      .map((row) => Number(row.version)),
  );
}

/** Applies every migration `db` has not recorded, in order; answers the versions it applied. */
export function migrate(
  db: DatabaseSync,
  file: string,
  migrations: readonly Migration[] = MIGRATIONS,
): number[] {
  const latest = migrations.at(-1)?.version ?? 0;
  const current = schemaVersion(db);
  if (current > latest) {
    throw serverError(
      'schema_too_new',
      `${file} has schema version ${current}, newer than this sluice-server knows (${latest}); run a newer sluice-server`,
    );
  }
  const done = appliedVersions(db);
  const applied: number[] = [];
  for (const migration of migrations) {
    if (done.has(migration.version)) continue;
    db.exec('BEGIN IMMEDIATE');
    try {
      db.exec(
        'CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
      );
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)').run(
        migration.version,
        migration.name,
        Date.now(),
      );
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      throw serverError(
        'store_unusable',
        `${file}: migration ${migration.version} (${migration.name}) failed: ${(error as Error).message}`,
      );
    }
    applied.push(migration.version);
  }
  return applied;
}
