// The API's JSON shapes (docs/server-api.md), made from store records. Times are ISO 8601.

import type { EdgeRecord, RuleRecord, RuleStatsRecord } from '../store/records.ts';

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

export function edgeView(edge: EdgeRecord, connected: boolean) {
  return {
    id: edge.id,
    name: edge.name,
    connected,
    revoked: edge.revokedAt !== null,
    version: edge.version,
    lastSeenAt: iso(edge.lastSeenAt),
    enrolledAt: iso(edge.enrolledAt),
    rules: edge.rules,
  };
}

export function ruleView(rule: RuleRecord) {
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
    createdAt: iso(rule.createdAt),
    updatedAt: iso(rule.updatedAt),
  };
}

/** A rule's stats; a rule no report has mentioned yet has zeros and `at: null`. */
export function statsView(ruleId: string, stats: RuleStatsRecord | null) {
  return {
    rule: ruleId,
    at: iso(stats?.at ?? null),
    bytesIn: stats?.bytesIn ?? 0,
    bytesOut: stats?.bytesOut ?? 0,
    connectionsTotal: stats?.connectionsTotal ?? 0,
    activeConnections: stats?.activeConnections ?? 0,
    rejected: stats?.rejected ?? 0,
    connectErrors: stats?.connectErrors ?? 0,
    bytesInPerSec: stats?.bytesInPerSec ?? 0,
    bytesOutPerSec: stats?.bytesOutPerSec ?? 0,
  };
}
