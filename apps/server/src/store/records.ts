// What the store hands out: plain, typed records, times as epoch milliseconds.

export type Role = 'admin' | 'user';
export type RuleState = 'pending' | 'active' | 'failed' | 'removed';

export interface UserRecord {
  readonly id: string;
  readonly name: string;
  readonly displayName: string;
  readonly role: Role;
  readonly createdAt: number;
  readonly disabled: boolean;
  readonly hasPassword: boolean;
  readonly mustChangePassword: boolean;
}

/** A token's lastUsedAt moves at most this often: it is a time to the minute, not a write per request. */
export const TOKEN_USE_RESOLUTION_MS = 60_000;

export interface TokenRecord {
  readonly id: string;
  readonly userId: string;
  readonly name: string;
  readonly createdAt: number;
  /** The last use written: a use less than TOKEN_USE_RESOLUTION_MS after it is not; null: never used. */
  readonly lastUsedAt: number | null;
  readonly revokedAt: number | null;
}

/** A live web session: its user, and when it began and was last used. */
export interface SessionRecord {
  readonly id: string;
  readonly user: UserRecord;
  readonly createdAt: number;
  readonly lastSeenAt: number;
}

export interface EdgeRecord {
  readonly id: string;
  readonly name: string;
  readonly version: number | null;
  readonly createdAt: number;
  readonly enrolledAt: number | null;
  readonly lastSeenAt: number | null;
  readonly revokedAt: number | null;
}

export interface EnrollmentRecord {
  readonly id: string;
  readonly edgeId: string;
  readonly expiresAt: number;
}

export type EnrollmentRefusal = 'code_unknown' | 'code_used' | 'code_expired' | 'code_superseded';

export type Redemption =
  | { readonly ok: true; readonly edge: EdgeRecord; readonly secret: string }
  | { readonly ok: false; readonly code: EnrollmentRefusal; readonly message: string };

export interface RuleRecord {
  readonly id: string;
  readonly edgeId: string;
  readonly edgeName: string;
  readonly owner: string;
  readonly name: string;
  readonly revision: number;
  readonly state: RuleState;
  readonly reason: string | null;
  readonly message: string | null;
  /** The rule table in the standalone config's keys, as validated and stored. */
  readonly body: Record<string, unknown>;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface RuleStatsRecord {
  readonly ruleId: string;
  readonly at: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly connectionsTotal: number;
  readonly activeConnections: number;
  readonly rejected: number;
  /** `rejected` by reason, since the rule was created; reasons never seen are left out. */
  readonly rejectedByReason: Readonly<Record<string, number>>;
  readonly connectErrors: number;
  readonly bytesInPerSec: number;
  readonly bytesOutPerSec: number;
}

export interface AuditEntry {
  readonly id: number;
  readonly at: number;
  readonly user: string | null;
  readonly action: string;
  readonly target: string | null;
  readonly outcome: string;
  readonly from: string | null;
  /** What a change changed: the object before and after (null where it did not exist). */
  readonly change: AuditChange | null;
}

export interface AuditChange {
  readonly before: unknown;
  readonly after: unknown;
}

// Tenancy: grants.
export type GrantProtocol = 'tcp' | 'udp';

export interface GrantRecord {
  readonly id: string;
  readonly userId: string;
  readonly userName: string;
  /** null: every edge (`*`). */
  readonly edgeId: string | null;
  readonly edgeName: string | null;
  readonly portLo: number;
  readonly portHi: number;
  readonly protocols: readonly GrantProtocol[];
  readonly createdAt: number;
}

// Tenancy: owner caps per edge.
export interface OwnerLimitsRecord {
  readonly edgeId: string;
  readonly owner: string;
  /** The `[owners.NAME] limits` table in the config's keys, as validated. */
  readonly limits: Record<string, unknown>;
  readonly updatedAt: number;
}

// Tenancy: monthly quotas per (user, edge).
export interface QuotaRecord {
  readonly userId: string;
  readonly userName: string;
  readonly edgeId: string;
  readonly edgeName: string;
  readonly monthlyBytes: number;
  /** Epoch ms: periods start on its day of the month at its time (quota-period.ts). */
  readonly periodAnchor: number;
  readonly periodStart: number;
  readonly periodEnd: number;
  readonly usedBytes: number;
  readonly exhaustedAt: number | null;
  readonly updatedAt: number;
}

// Replicas: the sluice-server processes sharing one store, and each edge's one control session.
export interface ReplicaRecord {
  readonly id: string;
  /** Where edges reach this replica's control listener (its advertise address). */
  readonly controlHost: string;
  readonly controlPort: number;
  /** Epoch ms. */
  readonly startedAt: number;
  readonly heartbeatAt: number;
}

export interface EdgeSessionRecord {
  readonly edgeId: string;
  readonly replicaId: string;
  /** A fresh id per accepted session (randomUUID). */
  readonly sessionId: string;
  readonly bootId: string;
  /** Epoch ms. */
  readonly since: number;
}
