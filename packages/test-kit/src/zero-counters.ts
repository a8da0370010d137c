// A rule's counters before any traffic, under the names the edge's stats report
// (@sluice/protocol's RuleStats) and the API's stats view share.

export const ZERO_COUNTERS = {
  bytesIn: 0,
  bytesOut: 0,
  connectionsTotal: 0,
  activeConnections: 0,
  rejected: 0,
  connectErrors: 0,
} as const;
