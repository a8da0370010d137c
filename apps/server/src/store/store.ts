// The server's state in one SQLite file (node:sqlite): users and their tokens, edges and their
// enrollment codes, rules with revision and state, per-rule stats, and the audit trail.
// Every method is synchronous and each change runs in one transaction, so a request that fails
// half-way leaves nothing behind. Secrets (tokens, codes, edge secrets) are stored as hashes.

import { closeSync, openSync } from 'node:fs';
import { DatabaseSync, type SQLInputValue, type SQLOutputValue, type StatementSync } from 'node:sqlite';
import type { RuleStats } from '@sluice/protocol';
import { ServerError } from '../errors.ts';
import { migrate } from './migrations.ts';
import type {
  AuditEntry,
  EdgeRecord,
  EnrollmentRecord,
  Redemption,
  Role,
  RuleRecord,
  RuleState,
  RuleStatsRecord,
  UserRecord,
} from './records.ts';
import { hashSecret, newId, newSecret, secretMatches } from './secrets.ts';

export interface StoreOptions {
  /** The clock, for tests of expiry. */
  readonly now?: () => number;
}

type Row = Record<string, SQLOutputValue>;

const TOKEN_PREFIX = 'slt_';
const SECRET_PREFIX = 'sls_';

function str(value: SQLOutputValue | undefined): string {
  return String(value);
}
function strOrNull(value: SQLOutputValue | undefined): string | null {
  return value === null || value === undefined ? null : String(value);
}
function num(value: SQLOutputValue | undefined): number {
  return Number(value);
}
function numOrNull(value: SQLOutputValue | undefined): number | null {
  return value === null || value === undefined ? null : Number(value);
}

function toUser(row: Row): UserRecord {
  return {
    id: str(row.id),
    name: str(row.name),
    role: str(row.role) as Role,
    createdAt: num(row.created_at),
  };
}

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

function toRule(row: Row): RuleRecord {
  return {
    id: str(row.id),
    edgeId: str(row.edge_id),
    edgeName: str(row.edge_name),
    owner: str(row.owner),
    name: str(row.name),
    revision: num(row.revision),
    state: str(row.state) as RuleState,
    reason: strOrNull(row.reason),
    message: strOrNull(row.message),
    body: JSON.parse(str(row.body)) as Record<string, unknown>,
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}

function toStats(row: Row): RuleStatsRecord {
  return {
    ruleId: str(row.rule_id),
    at: num(row.at),
    bytesIn: num(row.bytes_in),
    bytesOut: num(row.bytes_out),
    connectionsTotal: num(row.connections_total),
    activeConnections: num(row.active_connections),
    rejected: num(row.rejected),
    connectErrors: num(row.connect_errors),
    bytesInPerSec: num(row.bytes_in_per_sec),
    bytesOutPerSec: num(row.bytes_out_per_sec),
  };
}

const EDGE_SELECT = `
  SELECT e.*, (SELECT COUNT(*) FROM rules r WHERE r.edge_id = e.id AND r.state != 'removed') AS rule_count
  FROM edges e`;

const RULE_SELECT = 'SELECT r.*, e.name AS edge_name FROM rules r JOIN edges e ON e.id = r.edge_id';

/** The cumulative counters a stats report carries, by their column names. */
const COUNTERS = [
  ['bytes_in', 'bytesIn'],
  ['bytes_out', 'bytesOut'],
  ['connections_total', 'connectionsTotal'],
  ['rejected', 'rejected'],
  ['connect_errors', 'connectErrors'],
] as const;

export class Store {
  readonly file: string;
  private readonly db: DatabaseSync;
  private readonly now: () => number;
  private readonly statements = new Map<string, StatementSync>();

  constructor(file: string, options: StoreOptions = {}) {
    this.file = file;
    this.now = options.now ?? Date.now;
    try {
      // SQLite makes the file (and its -wal and -shm, which copy its mode) with the umask's
      // mode; the database holds token and secret hashes, so it is made 0600 first.
      if (file !== ':memory:') closeSync(openSync(file, 'a', 0o600));
      this.db = new DatabaseSync(file, { enableForeignKeyConstraints: true, timeout: 5000 });
      // WAL: a backup (another process) reads while the server writes, neither blocking.
      this.db.exec('PRAGMA journal_mode = WAL');
      this.db.exec('PRAGMA synchronous = NORMAL');
    } catch (error) {
      throw new ServerError('store_unusable', `${file}: ${(error as Error).message}`);
    }
    try {
      migrate(this.db, file);
    } catch (error) {
      this.db.close();
      throw error;
    }
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }

  private sql(text: string): StatementSync {
    let statement = this.statements.get(text);
    if (statement === undefined) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  private get(text: string, ...params: SQLInputValue[]): Row | undefined {
    return this.sql(text).get(...params) as Row | undefined;
  }

  private all(text: string, ...params: SQLInputValue[]): Row[] {
    return this.sql(text).all(...params) as Row[];
  }

  private run(text: string, ...params: SQLInputValue[]): number {
    return Number(this.sql(text).run(...params).changes);
  }

  /** Runs `fn` in one transaction: all of it or none of it. */
  transaction<T>(fn: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const result = fn();
      this.db.exec('COMMIT');
      return result;
    } catch (error) {
      this.db.exec('ROLLBACK');
      throw error;
    }
  }

  // ---- users and tokens ------------------------------------------------------------------

  countUsers(): number {
    return num(this.get('SELECT COUNT(*) AS n FROM users')?.n);
  }

  createUser(name: string, role: Role): UserRecord {
    const user: UserRecord = { id: newId('u_'), name, role, createdAt: this.now() };
    this.run(
      'INSERT INTO users (id, name, role, created_at) VALUES (?, ?, ?, ?)',
      user.id,
      name,
      role,
      user.createdAt,
    );
    return user;
  }

  getUserByName(name: string): UserRecord | null {
    const row = this.get('SELECT * FROM users WHERE name = ?', name);
    return row === undefined ? null : toUser(row);
  }

  /** Makes a token for a user; the token itself is answered once and never stored. */
  createToken(userId: string, label: string | null = null): { id: string; token: string } {
    const token = newSecret(TOKEN_PREFIX);
    const id = newId('t_');
    this.run(
      'INSERT INTO tokens (id, user_id, hash, label, created_at) VALUES (?, ?, ?, ?, ?)',
      id,
      userId,
      hashSecret(token),
      label,
      this.now(),
    );
    return { id, token };
  }

  /** The user a live token belongs to, or null for an unknown or revoked token. */
  authenticate(token: string): UserRecord | null {
    const row = this.get(
      `SELECT u.*, t.id AS token_id FROM tokens t JOIN users u ON u.id = t.user_id
       WHERE t.hash = ? AND t.revoked_at IS NULL`,
      hashSecret(token),
    );
    if (row === undefined) return null;
    this.run('UPDATE tokens SET last_used_at = ? WHERE id = ?', this.now(), str(row.token_id));
    return toUser(row);
  }

  revokeToken(tokenId: string): boolean {
    return (
      this.run('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', this.now(), tokenId) >
      0
    );
  }

  /** For tests and audits of the store itself: the stored token hashes. */
  tokenHashes(): string[] {
    return this.all('SELECT hash FROM tokens').map((row) => str(row.hash));
  }

  // ---- edges -----------------------------------------------------------------------------

  /** An edge by id, else by name. */
  findEdge(idOrName: string): EdgeRecord | null {
    const row =
      this.get(`${EDGE_SELECT} WHERE e.id = ?`, idOrName) ??
      this.get(`${EDGE_SELECT} WHERE e.name = ?`, idOrName);
    return row === undefined ? null : toEdge(row);
  }

  getEdge(id: string): EdgeRecord | null {
    const row = this.get(`${EDGE_SELECT} WHERE e.id = ?`, id);
    return row === undefined ? null : toEdge(row);
  }

  listEdges(): EdgeRecord[] {
    return this.all(`${EDGE_SELECT} ORDER BY e.name`).map(toEdge);
  }

  /** Renames an edge; null when another edge has the name. */
  renameEdge(id: string, name: string): EdgeRecord | null {
    const other = this.get('SELECT id FROM edges WHERE name = ? AND id != ?', name, id);
    if (other !== undefined) return null;
    this.run('UPDATE edges SET name = ? WHERE id = ?', name, id);
    return this.getEdge(id);
  }

  revokeEdge(id: string): EdgeRecord | null {
    this.run('UPDATE edges SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?', this.now(), id);
    return this.getEdge(id);
  }

  deleteEdge(id: string): boolean {
    return this.run('DELETE FROM edges WHERE id = ?', id) > 0;
  }

  /** Checks an edge's secret (constant time); null when unknown or never enrolled. */
  edgeSecretMatches(id: string, secret: string): boolean {
    const row = this.get('SELECT secret_hash FROM edges WHERE id = ?', id);
    const hash = strOrNull(row?.secret_hash);
    return hash !== null && secretMatches(secret, hash);
  }

  edgeSeen(id: string, version: number | null): void {
    if (version === null) this.run('UPDATE edges SET last_seen_at = ? WHERE id = ?', this.now(), id);
    else this.run('UPDATE edges SET last_seen_at = ?, version = ? WHERE id = ?', this.now(), version, id);
  }

  // ---- enrollments -----------------------------------------------------------------------

  /**
   * Makes a one-time code for the edge named `name`, making the edge when it is new. Any unused
   * code of that edge is superseded: only the newest code works.
   */
  createEnrollment(
    name: string,
    ttlMs: number,
    createdBy: string | null,
  ): { edge: EdgeRecord; enrollment: EnrollmentRecord; code: string } {
    return this.transaction(() => {
      const now = this.now();
      let edge = this.get('SELECT id FROM edges WHERE name = ?', name);
      if (edge === undefined) {
        const id = newId('e_');
        this.run('INSERT INTO edges (id, name, created_at) VALUES (?, ?, ?)', id, name, now);
        edge = { id };
      }
      const edgeId = str(edge.id);
      this.run(
        'UPDATE enrollments SET superseded_at = ? WHERE edge_id = ? AND used_at IS NULL AND superseded_at IS NULL',
        now,
        edgeId,
      );
      const code = newSecret('', 24);
      const enrollment: EnrollmentRecord = { id: newId('n_'), edgeId, expiresAt: now + ttlMs };
      this.run(
        `INSERT INTO enrollments (id, edge_id, code_hash, created_by, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
        enrollment.id,
        edgeId,
        hashSecret(code),
        createdBy,
        now,
        enrollment.expiresAt,
      );
      return { edge: this.getEdge(edgeId)!, enrollment, code };
    });
  }

  /**
   * Redeems a code: marks it used and gives its edge a new secret (an earlier secret of the
   * edge stops working, and a revoked edge is enrolled again: issuing a code is the operator's
   * word that this edge may connect).
   */
  redeemEnrollment(code: string): Redemption {
    return this.transaction((): Redemption => {
      const now = this.now();
      const row = this.get('SELECT * FROM enrollments WHERE code_hash = ?', hashSecret(code));
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
      this.run('UPDATE enrollments SET used_at = ? WHERE id = ?', now, str(row.id));
      this.run(
        'UPDATE edges SET secret_hash = ?, enrolled_at = ?, revoked_at = NULL WHERE id = ?',
        hashSecret(secret),
        now,
        edgeId,
      );
      return { ok: true, edge: this.getEdge(edgeId)!, secret };
    });
  }

  // ---- rules -----------------------------------------------------------------------------

  getRule(id: string): RuleRecord | null {
    const row = this.get(`${RULE_SELECT} WHERE r.id = ?`, id);
    return row === undefined ? null : toRule(row);
  }

  /** Live rules (not removed), optionally of one edge and one owner. */
  listRules(filter: { edgeId?: string; owner?: string } = {}): RuleRecord[] {
    return this.all(
      `${RULE_SELECT} WHERE r.state != 'removed' AND (?1 IS NULL OR r.edge_id = ?1) AND (?2 IS NULL OR r.owner = ?2)
       ORDER BY e.name, r.name`,
      filter.edgeId ?? null,
      filter.owner ?? null,
    ).map(toRule);
  }

  /** Every rule of an edge, tombstones included. */
  edgeRules(edgeId: string): RuleRecord[] {
    return this.all(`${RULE_SELECT} WHERE r.edge_id = ? ORDER BY r.name`, edgeId).map(toRule);
  }

  countRulesByState(): Record<RuleState, number> {
    const counts: Record<RuleState, number> = { pending: 0, active: 0, failed: 0, removed: 0 };
    for (const row of this.all('SELECT state, COUNT(*) AS n FROM rules GROUP BY state')) {
      counts[str(row.state) as RuleState] = num(row.n);
    }
    return counts;
  }

  /** Stores a new rule, pending, at revision 1. */
  insertRule(rule: {
    edgeId: string;
    owner: string;
    name: string;
    body: Record<string, unknown>;
  }): RuleRecord {
    const id = newId('r_');
    const now = this.now();
    this.run(
      `INSERT INTO rules (id, edge_id, owner, name, revision, state, body, created_at, updated_at)
       VALUES (?, ?, ?, ?, 1, 'pending', ?, ?, ?)`,
      id,
      rule.edgeId,
      rule.owner,
      rule.name,
      JSON.stringify(rule.body),
      now,
      now,
    );
    return this.getRule(id)!;
  }

  /** Gives a rule a new body at the next revision, pending until the edge acks it. */
  reviseRule(id: string, change: { name: string; body: Record<string, unknown> }): RuleRecord {
    this.run(
      `UPDATE rules SET name = ?, body = ?, revision = revision + 1, state = 'pending', reason = NULL, message = NULL,
       updated_at = ? WHERE id = ?`,
      change.name,
      JSON.stringify(change.body),
      this.now(),
      id,
    );
    return this.getRule(id)!;
  }

  /**
   * Records what the edge made of one revision of a rule. An ack for an older revision than
   * the stored one says nothing about the current rule and is ignored.
   */
  setRuleState(
    edgeId: string,
    id: string,
    revision: number,
    state: Exclude<RuleState, 'removed'>,
    reason: string | null = null,
    message: string | null = null,
  ): boolean {
    return (
      this.run(
        `UPDATE rules SET state = ?, reason = ?, message = ?, updated_at = ?
         WHERE id = ? AND edge_id = ? AND revision = ? AND state != 'removed'`,
        state,
        reason,
        message,
        this.now(),
        id,
        edgeId,
        revision,
      ) > 0
    );
  }

  /** Marks a rule removed: a tombstone that frees its name and port until the edge confirms. */
  tombstoneRule(id: string): RuleRecord | null {
    this.run(
      "UPDATE rules SET state = 'removed', reason = NULL, message = NULL, updated_at = ? WHERE id = ?",
      this.now(),
      id,
    );
    return this.getRule(id);
  }

  deleteRule(id: string): boolean {
    return this.run('DELETE FROM rules WHERE id = ?', id) > 0;
  }

  /** Drops an edge's tombstones once the edge runs exactly the live set. */
  purgeTombstones(edgeId: string, ids?: readonly string[]): number {
    if (ids === undefined)
      return this.run("DELETE FROM rules WHERE edge_id = ? AND state = 'removed'", edgeId);
    let purged = 0;
    for (const id of ids)
      purged += this.run("DELETE FROM rules WHERE id = ? AND edge_id = ? AND state = 'removed'", id, edgeId);
    return purged;
  }

  // ---- stats -----------------------------------------------------------------------------

  /**
   * Folds one stats report of an edge into the rules' totals. The edge's counters are
   * cumulative since its process started (`bootId`): within one boot the delta is the
   * difference to the last report; a new boot starts from zero, so its first report is all
   * delta. The last report is kept in the database, so a server restart loses nothing either.
   * Answers the updated stats of the rules in the report that belong to this edge.
   */
  recordStats(edgeId: string, bootId: string, reports: readonly RuleStats[]): RuleStatsRecord[] {
    return this.transaction(() => {
      const now = this.now();
      const out: RuleStatsRecord[] = [];
      for (const report of reports) {
        const owned = this.get(
          "SELECT 1 AS ok FROM rules WHERE id = ? AND edge_id = ? AND state != 'removed'",
          report.ruleId,
          edgeId,
        );
        if (owned === undefined) continue;
        const last = this.get('SELECT * FROM rule_stats WHERE rule_id = ?', report.ruleId);
        const sameBoot = last !== undefined && str(last.boot_id) === bootId;
        const delta = (column: string, value: number): number => {
          if (!sameBoot) return value;
          const before = num(last[`last_${column}`]);
          // A counter that went back within one boot was reset; count it from zero.
          return value >= before ? value - before : value;
        };
        const deltas = Object.fromEntries(
          COUNTERS.map(([column, key]) => [column, delta(column, report[key])]),
        );
        const seconds = last === undefined ? 0 : (now - num(last.at)) / 1000;
        const rate = (bytes: number): number => (seconds > 0 ? bytes / seconds : 0);
        const total = (column: string): number =>
          (last === undefined ? 0 : num(last[column])) + (deltas[column] ?? 0);
        this.run(
          `INSERT INTO rule_stats (rule_id, at, bytes_in, bytes_out, connections_total, active_connections, rejected,
             connect_errors, bytes_in_per_sec, bytes_out_per_sec, boot_id, last_bytes_in, last_bytes_out,
             last_connections_total, last_rejected, last_connect_errors)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (rule_id) DO UPDATE SET at = excluded.at, bytes_in = excluded.bytes_in,
             bytes_out = excluded.bytes_out, connections_total = excluded.connections_total,
             active_connections = excluded.active_connections, rejected = excluded.rejected,
             connect_errors = excluded.connect_errors, bytes_in_per_sec = excluded.bytes_in_per_sec,
             bytes_out_per_sec = excluded.bytes_out_per_sec, boot_id = excluded.boot_id,
             last_bytes_in = excluded.last_bytes_in, last_bytes_out = excluded.last_bytes_out,
             last_connections_total = excluded.last_connections_total, last_rejected = excluded.last_rejected,
             last_connect_errors = excluded.last_connect_errors`,
          report.ruleId,
          now,
          total('bytes_in'),
          total('bytes_out'),
          total('connections_total'),
          report.activeConnections,
          total('rejected'),
          total('connect_errors'),
          rate(deltas.bytes_in ?? 0),
          rate(deltas.bytes_out ?? 0),
          bootId,
          report.bytesIn,
          report.bytesOut,
          report.connectionsTotal,
          report.rejected,
          report.connectErrors,
        );
        out.push(this.getStats(report.ruleId)!);
      }
      return out;
    });
  }

  getStats(ruleId: string): RuleStatsRecord | null {
    const row = this.get('SELECT * FROM rule_stats WHERE rule_id = ?', ruleId);
    return row === undefined ? null : toStats(row);
  }

  /** Totals of every live rule with stats, with the labels metrics carry. */
  allStats(): Array<RuleStatsRecord & { edgeName: string; ruleName: string; owner: string }> {
    return this.all(
      `SELECT s.*, r.name AS rule_name, r.owner, e.name AS edge_name FROM rule_stats s
       JOIN rules r ON r.id = s.rule_id JOIN edges e ON e.id = r.edge_id WHERE r.state != 'removed'`,
    ).map((row) => ({
      ...toStats(row),
      edgeName: str(row.edge_name),
      ruleName: str(row.rule_name),
      owner: str(row.owner),
    }));
  }

  // ---- audit -----------------------------------------------------------------------------

  audit(entry: Omit<AuditEntry, 'at'> & { at?: number }): void {
    this.run(
      'INSERT INTO audit (at, user, action, target, outcome, from_addr) VALUES (?, ?, ?, ?, ?, ?)',
      entry.at ?? this.now(),
      entry.user,
      entry.action,
      entry.target,
      entry.outcome,
      entry.from,
    );
  }

  /** The newest entries first. */
  listAudit(limit: number): AuditEntry[] {
    return this.all('SELECT * FROM audit ORDER BY id DESC LIMIT ?', limit).map((row) => ({
      at: num(row.at),
      user: strOrNull(row.user),
      action: str(row.action),
      target: strOrNull(row.target),
      outcome: str(row.outcome),
      from: strOrNull(row.from_addr),
    }));
  }
}
