// The server's state behind one interface, grouped by aggregate: users and their tokens, edges
// and their enrollment codes, rules with revision and state, per-rule stats, and the audit
// trail. Two backends implement it through one query layer (kysely/*): SQLite (one file, the
// embedded default, sqlite/sqlite-store.ts) and PostgreSQL (several servers sharing it,
// postgres/postgres-store.ts); open-store.ts picks one from the store spec.
//
// Each method is atomic on its own. Work that must be all or nothing across several calls runs
// in `transaction`, through the `tx` it is handed and nothing else: other callers' writes never
// join it. (SQLite has one connection, so there the store's own methods wait until the
// transaction ends; a transaction that called them would wait for itself, so both backends
// refuse such a call.) On PostgreSQL, other servers' transactions run beside it: a transaction
// whose check must still hold at its write takes the lock that serializes it (EdgeStore.lock).
//
// A store that cannot reach its database (PostgreSQL down, SQLite busy or its disk full)
// rejects with store_unavailable; it recovers by itself once the database is back.

import type { OwnerUsage, QuotaBudget, RuleStats } from '@sluice/protocol';
import type { ListenKeys } from './listen-keys.ts';
import type {
  AuditChange,
  AuditEntry,
  EdgeRecord,
  EdgeSessionRecord,
  EnrollmentRecord,
  GrantProtocol,
  GrantRecord,
  OwnerLimitsRecord,
  QuotaRecord,
  Redemption,
  ReplicaRecord,
  Role,
  RuleRecord,
  RuleState,
  RuleStatsRecord,
  SessionRecord,
  TokenRecord,
  UserRecord,
} from './records.ts';

export interface UserStore {
  count(): Promise<number>;
  create(name: string, role: Role, displayName?: string | null): Promise<UserRecord>;
  list(): Promise<UserRecord[]>;
  getByName(name: string): Promise<UserRecord | null>;
  /** A user by id, else by name. */
  find(idOrName: string): Promise<UserRecord | null>;
  update(id: string, change: { displayName?: string; disabled?: boolean }): Promise<UserRecord | null>;
  /** Deletes the user with their tokens and sessions; answers how many of each went. */
  delete(id: string): Promise<{ tokens: number; sessions: number } | null>;
  /** The stored password hash (null: tokens only). */
  passwordHash(id: string): Promise<string | null>;
  /** Sets the password hash; `mustChange` marks an admin's temporary password. */
  setPassword(id: string, hash: string, mustChange: boolean): Promise<void>;
  /** Makes a token for a user; the token itself is answered once and never stored. */
  createToken(userId: string, label?: string | null): Promise<{ id: string; token: string }>;
  listTokens(userId: string): Promise<TokenRecord[]>;
  /** The user a live token of an enabled user belongs to; null otherwise. Records its use. */
  authenticate(token: string): Promise<UserRecord | null>;
  /** Revokes a token of that user; null when the user has no such token. */
  revokeToken(userId: string, tokenId: string): Promise<TokenRecord | null>;
  /** For tests and audits of the store itself: the stored token hashes. */
  tokenHashes(): Promise<string[]>;
  /** Starts a web session; the cookie value is answered once and never stored. */
  createSession(userId: string): Promise<{ id: string; cookie: string }>;
  /**
   * The live session of a cookie of an enabled user: one used within `idleMs` and begun within
   * `maxAgeMs`. Records its use; an expired one is deleted and answers null.
   */
  session(cookie: string, idleMs: number, maxAgeMs: number): Promise<SessionRecord | null>;
  deleteSession(id: string): Promise<void>;
  /** Ends every session of the user but `exceptId`; answers how many. */
  deleteSessions(userId: string, exceptId?: string | null): Promise<number>;
}

export interface EdgeStore {
  /** An edge by id, else by name. */
  find(idOrName: string): Promise<EdgeRecord | null>;
  get(id: string): Promise<EdgeRecord | null>;
  list(): Promise<EdgeRecord[]>;
  /**
   * Live rules (not removed) per edge id, of every edge or of `edgeId`; an edge with none is
   * absent. Counted only for what shows them: a push's lookups of its edge must not cost what
   * the edge holds.
   */
  ruleCounts(edgeId?: string): Promise<ReadonlyMap<string, number>>;
  /** Renames an edge; null when another edge has the name. */
  rename(id: string, name: string): Promise<EdgeRecord | null>;
  revoke(id: string): Promise<EdgeRecord | null>;
  delete(id: string): Promise<boolean>;
  /** Checks an edge's secret (constant time); false when unknown or never enrolled. */
  secretMatches(id: string, secret: string): Promise<boolean>;
  /** Records that the edge was heard from now, and the protocol version it speaks if given. */
  seen(id: string, version: number | null): Promise<void>;
  /**
   * Inside a transaction: waits for, then holds until it ends, the edge's lock, so that
   * transactions of one edge that check then write (rule conflicts, stats folds) run one after
   * the other across servers. PostgreSQL locks the edge row; SQLite's write transactions are
   * exclusive already.
   */
  lock(edgeId: string): Promise<void>;
  /**
   * Makes a one-time code for the edge named `name`, making the edge when it is new. Any unused
   * code of that edge is superseded: only the newest code works.
   */
  createEnrollment(
    name: string,
    ttlMs: number,
    createdBy: string | null,
  ): Promise<{ edge: EdgeRecord; enrollment: EnrollmentRecord; code: string }>;
  /**
   * Redeems a code: marks it used and gives its edge a new secret (an earlier secret of the
   * edge stops working, and a revoked edge is enrolled again: issuing a code is the operator's
   * word that this edge may connect).
   */
  redeemEnrollment(code: string): Promise<Redemption>;
}

export interface RuleFilter {
  readonly edgeId?: string | undefined;
  readonly owner?: string | undefined;
}

export interface NewRule {
  readonly edgeId: string;
  readonly owner: string;
  readonly name: string;
  readonly body: Record<string, unknown>;
}

export interface RuleStore {
  get(id: string): Promise<RuleRecord | null>;
  /** Live rules (not removed), optionally of one edge and one owner. */
  list(filter?: RuleFilter): Promise<RuleRecord[]>;
  /** Every rule of an edge, tombstones included. */
  ofEdge(edgeId: string): Promise<RuleRecord[]>;
  countByState(): Promise<Record<RuleState, number>>;
  /** Stores a new rule, pending, at revision 1. */
  insert(rule: NewRule): Promise<RuleRecord>;
  /** Gives a rule a new body at the next revision, pending until the edge acks it. */
  revise(id: string, change: { name: string; body: Record<string, unknown> }): Promise<RuleRecord>;
  /**
   * Records what the edge made of one revision of a rule. An ack for an older revision than
   * the stored one says nothing about the current rule and is ignored (answers false).
   */
  setState(
    edgeId: string,
    id: string,
    revision: number,
    state: Exclude<RuleState, 'removed'>,
    reason?: string | null,
    message?: string | null,
  ): Promise<boolean>;
  /**
   * setState(edgeId, id, revision, 'active') for many rules at once (an ack of a full push
   * carries one result per rule the edge holds); answers how many rows changed. A rule that is
   * active already is not written again (its updatedAt stays when it became active).
   */
  setActive(
    edgeId: string,
    results: readonly { readonly ruleId: string; readonly revision: number }[],
  ): Promise<number>;
  /** Marks a rule removed: a tombstone that frees its name and port until the edge confirms. */
  tombstone(id: string): Promise<RuleRecord | null>;
  delete(id: string): Promise<boolean>;
  /** Drops an edge's tombstones (all, or those of `ids`) once the edge runs exactly the live set. */
  purgeTombstones(edgeId: string, ids?: readonly string[]): Promise<number>;
  /**
   * The live rules of an edge that a rule named `name` listening on `keys` may clash with, found
   * through indexes, not by reading every rule: the one of that name, those of the same protocol
   * whose listen ports meet keys' range (those of rules without listen keys are not found:
   * fillListenKeys first). Hosts are not compared here.
   */
  clashCandidates(edgeId: string, name: string, keys: ListenKeys | null): Promise<RuleRecord[]>;
  /**
   * Records the listen keys, from their bodies, of an edge's live rules written before schema 9
   * (none after the first call); answers how many it filled.
   */
  fillListenKeys(edgeId: string): Promise<number>;
}

/** A rule's totals with the labels metrics carry. */
export type LabelledRuleStats = RuleStatsRecord & {
  readonly edgeName: string;
  readonly ruleName: string;
  readonly owner: string;
};

export interface StatsStore {
  /**
   * Folds one stats report of an edge into its rules' totals (fold-stats.ts says how), and its
   * owners' usage into their quotas on the edge, in one transaction, and answers the updated stats of the reported rules that are live rules of this edge.
   */
  record(
    edgeId: string,
    bootId: string,
    reports: readonly RuleStats[],
    owners?: readonly OwnerUsage[],
    /** When the same session's previous report was folded (fold-stats.ts); null: its first. */
    since?: number | null,
  ): Promise<RuleStatsRecord[]>;
  get(ruleId: string): Promise<RuleStatsRecord | null>;
  /** Totals of every live rule with stats. */
  all(): Promise<LabelledRuleStats[]>;
}

export interface AuditFilter {
  readonly limit: number;
  readonly user?: string | undefined;
  readonly action?: string | undefined;
  /** Epoch ms: entries at or after it. */
  readonly since?: number | undefined;
  /** Epoch ms: entries before it. */
  readonly until?: number | undefined;
  /** Entries with a smaller id (the next page). */
  readonly before?: number | undefined;
}

export interface AuditStore {
  add(
    entry: Omit<AuditEntry, 'at' | 'id' | 'change'> & { at?: number; change?: AuditChange | null },
  ): Promise<void>;
  /** The newest entries first, filtered. */
  list(filter: AuditFilter): Promise<AuditEntry[]>;
}

// Tenancy: grants.
export interface NewGrant {
  readonly userId: string;
  readonly edgeId: string | null;
  readonly portLo: number;
  readonly portHi: number;
  readonly protocols: readonly GrantProtocol[];
}

export interface GrantFilter {
  readonly userId?: string | undefined;
  /** Grants on this edge, `*` grants included. */
  readonly edgeId?: string | undefined;
}

export interface GrantStore {
  create(grant: NewGrant): Promise<GrantRecord>;
  get(id: string): Promise<GrantRecord | null>;
  list(filter?: GrantFilter): Promise<GrantRecord[]>;
  /** One user's grants, by the user index: the check of every push reads it. */
  listByUser(userId: string): Promise<GrantRecord[]>;
  delete(id: string): Promise<boolean>;
}

// Tenancy: owner caps per edge.
export interface OwnerLimitStore {
  get(edgeId: string, owner: string): Promise<OwnerLimitsRecord | null>;
  /** Every owner's caps on an edge, as the push message's `owners` carries them. */
  ofEdge(edgeId: string): Promise<Record<string, Record<string, unknown>>>;
  set(edgeId: string, owner: string, limits: Record<string, unknown>): Promise<OwnerLimitsRecord>;
  delete(edgeId: string, owner: string): Promise<boolean>;
}

// Tenancy: monthly quotas per (user, edge), counted from the owners' usage the edges report.
export interface QuotaStore {
  get(userId: string, edgeId: string): Promise<QuotaRecord | null>;
  /** A user's quotas, or an edge's. */
  list(filter: { userId?: string; edgeId?: string }): Promise<QuotaRecord[]>;
  /** Creates or changes a quota; a new anchor re-reckons the period, keeping the usage if it still falls in it. */
  set(userId: string, edgeId: string, monthlyBytes: number, anchor: number): Promise<QuotaRecord>;
  /** Zeroes the usage of the current period. */
  clear(userId: string, edgeId: string): Promise<QuotaRecord | null>;
  delete(userId: string, edgeId: string): Promise<boolean>;
  /** Starts the next period of every quota whose period has ended; answers them. */
  rollOver(): Promise<QuotaRecord[]>;
  /**
   * The budgets for the push to an edge whose session counts under `bootId`: per owner, the
   * usage on the edge's own counter at which the owner stops (protocol's quotaBudgetSchema).
   */
  budgets(edgeId: string, bootId: string | null): Promise<Record<string, QuotaBudget>>;
}

// Tenancy: traffic history, per rule in 1-minute and 1-hour buckets (traffic-buckets.ts), added
// to by StatsStore.record in the transaction of its fold.
export interface TrafficFilter {
  /** The bucket width in ms: one of TRAFFIC_BUCKETS. */
  readonly widthMs: number;
  /** Epoch ms: buckets starting at or after it. */
  readonly from: number;
  /** Epoch ms: buckets starting before it. */
  readonly to: number;
  readonly ruleId?: string | undefined;
  readonly edgeId?: string | undefined;
  readonly owner?: string | undefined;
}

export interface TrafficSampleRecord {
  /** The bucket start, epoch ms. */
  readonly at: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/** The edge and owner a rule's traffic was recorded under. */
export interface TrafficRuleRef {
  readonly edgeId: string;
  readonly owner: string;
}

export interface TrafficStore {
  /** The matching rules' bytes summed per bucket, oldest first; only buckets with rows. */
  query(filter: TrafficFilter): Promise<TrafficSampleRecord[]>;
  /** Where a rule's history was recorded (its newest bucket), even once the rule is gone. */
  ruleRef(ruleId: string): Promise<TrafficRuleRef | null>;
  /**
   * Deletes buckets past their retention, at most `limit` rows per width (one bounded
   * statement each); answers how many went.
   */
  prune(limit?: number): Promise<number>;
}

// Replicas: the sluice-server processes that share this store, and which one holds each edge's
// one control session. With SQLite there is exactly one replica; the table works the same.
export interface ReplicaStore {
  /** Inserts or refreshes the replica, heartbeat = now (startedAt kept on refresh). */
  heartbeat(replica: { id: string; controlHost: string; controlPort: number }): Promise<void>;
  /** Replicas whose heartbeat is at or after `since`, oldest startedAt first. */
  live(since: number): Promise<ReplicaRecord[]>;
  /** Deletes the replica and its session records (it stopped cleanly). */
  remove(id: string): Promise<void>;
  /**
   * Makes `session` the edge's one session record (insert or replace, atomically); answers the
   * record it replaced, if any, so the caller can tell the replica that held it.
   */
  claimSession(session: EdgeSessionRecord): Promise<EdgeSessionRecord | null>;
  /** Deletes the edge's session record only if it is still `sessionId`; answers whether it did. */
  releaseSession(edgeId: string, sessionId: string): Promise<boolean>;
  /** Every session record. */
  sessions(): Promise<EdgeSessionRecord[]>;
  session(edgeId: string): Promise<EdgeSessionRecord | null>;
}

/** The aggregates: the store's own, or those bound to one transaction. */
export interface StoreAggregates {
  readonly users: UserStore;
  readonly edges: EdgeStore;
  readonly rules: RuleStore;
  readonly stats: StatsStore;
  readonly audit: AuditStore;
  readonly grants: GrantStore;
  readonly ownerLimits: OwnerLimitStore;
  readonly quotas: QuotaStore;
  readonly traffic: TrafficStore;
  readonly replicas: ReplicaStore;
}

export interface Store extends StoreAggregates {
  /**
   * Runs `fn` in one transaction, all of it or none of it: its changes are committed when the
   * promise it answers resolves and rolled back when it rejects. `fn` works through `tx` only.
   */
  transaction<T>(fn: (tx: StoreAggregates) => Promise<T>): Promise<T>;
  /** Reads a row of a table: rejects when the database cannot be read (down, locked, corrupt). */
  ping(): Promise<void>;
  /** The store's clock (epoch ms), the one that stamps what it writes. */
  now(): number;
  /** Closes the store once the work already asked of it is done. */
  close(): Promise<void>;
}
