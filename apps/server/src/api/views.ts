// The API's JSON shapes (docs/server-api.md, @sluice/api's schemas), made from store records.
// Times are ISO 8601.

import {
  type ApiToken,
  type Edge,
  isoTime,
  isoTimeOrNull,
  type Rule,
  type RuleStats,
  type User,
} from '@sluice/api';
import type { EdgeRecord, RuleRecord, RuleStatsRecord, TokenRecord, UserRecord } from '../store/records.ts';

/** `rules`: the edge's live rules (EdgeStore.ruleCounts). */
export function edgeView(edge: EdgeRecord, connected: boolean, rules: number): Edge {
  return {
    id: edge.id,
    name: edge.name,
    connected,
    revoked: edge.revokedAt !== null,
    version: edge.version,
    lastSeenAt: isoTimeOrNull(edge.lastSeenAt),
    enrolledAt: isoTimeOrNull(edge.enrolledAt),
    rules,
  };
}

export function ruleView(rule: RuleRecord): Rule {
  return {
    id: rule.id,
    edge: { id: rule.edgeId, name: rule.edgeName },
    owner: rule.owner,
    name: rule.name,
    revision: rule.revision,
    state: rule.state,
    reason: rule.reason,
    message: rule.message,
    rule: rule.body,
    createdAt: isoTime(rule.createdAt),
    updatedAt: isoTime(rule.updatedAt),
  };
}

/** A rule's stats; a rule no report has mentioned yet has zeros and `at: null`. */
export function statsView(ruleId: string, stats: RuleStatsRecord | null): RuleStats {
  return {
    rule: ruleId,
    at: isoTimeOrNull(stats?.at ?? null),
    bytesIn: stats?.bytesIn ?? 0,
    bytesOut: stats?.bytesOut ?? 0,
    connectionsTotal: stats?.connectionsTotal ?? 0,
    activeConnections: stats?.activeConnections ?? 0,
    rejected: stats?.rejected ?? 0,
    rejectedByReason: { ...stats?.rejectedByReason },
    connectErrors: stats?.connectErrors ?? 0,
    bytesInPerSec: stats?.bytesInPerSec ?? 0,
    bytesOutPerSec: stats?.bytesOutPerSec ?? 0,
  };
}

export function userView(user: UserRecord): User {
  return {
    id: user.id,
    name: user.name,
    displayName: user.displayName,
    role: user.role,
    disabled: user.disabled,
    hasPassword: user.hasPassword,
    mustChangePassword: user.mustChangePassword,
    createdAt: isoTime(user.createdAt),
  };
}

export function tokenView(token: TokenRecord): ApiToken {
  return {
    id: token.id,
    name: token.name,
    createdAt: isoTime(token.createdAt),
    lastUsedAt: isoTimeOrNull(token.lastUsedAt),
    revoked: token.revokedAt !== null,
  };
}
