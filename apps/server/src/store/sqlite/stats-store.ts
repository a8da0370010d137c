// Per-rule stats in SQLite: the totals and the baseline of the last report (rule_stats), folded
// by fold-stats.ts.

import type { OwnerUsage, RuleStats } from '@sluice/protocol';
import { foldStatsReports, type RuleStatsState } from '../fold-stats.ts';
import type { RuleStatsRecord } from '../records.ts';
import type { LabelledRuleStats, StatsStore } from '../store.ts';
import { foldOwnerUsage } from './quota-store.ts';
import type { SqliteConnection, SqliteScope } from './sqlite-connection.ts';
import { num, type Row, str } from './sqlite-row.ts';
import { addTraffic, pruneIfDue } from './traffic-store.ts';

function toStats(row: Row): RuleStatsRecord {
  return {
    ruleId: str(row.rule_id),
    at: num(row.at),
    bytesIn: num(row.bytes_in),
    bytesOut: num(row.bytes_out),
    connectionsTotal: num(row.connections_total),
    activeConnections: num(row.active_connections),
    rejected: num(row.rejected),
    rejectedByReason: JSON.parse(str(row.rejected_by_reason)) as Record<string, number>,
    connectErrors: num(row.connect_errors),
    bytesInPerSec: num(row.bytes_in_per_sec),
    bytesOutPerSec: num(row.bytes_out_per_sec),
  };
}

function toState(row: Row): RuleStatsState {
  return {
    stats: toStats(row),
    bootId: str(row.boot_id),
    last: {
      bytesIn: num(row.last_bytes_in),
      bytesOut: num(row.last_bytes_out),
      connectionsTotal: num(row.last_connections_total),
      rejected: num(row.last_rejected),
      connectErrors: num(row.last_connect_errors),
    },
    lastRejectedByReason: JSON.parse(str(row.last_rejected_by_reason)) as Record<string, number>,
  };
}

/**
 * The reported rules that are live rules of the edge, each with its stored state, and the owner
 * of each (traffic history records it).
 */
function loadKnown(
  db: SqliteConnection,
  edgeId: string,
  reports: readonly RuleStats[],
): { known: Map<string, RuleStatsState | null>; owners: Map<string, string> } {
  const known = new Map<string, RuleStatsState | null>();
  const owners = new Map<string, string>();
  for (const { ruleId } of reports) {
    if (known.has(ruleId)) continue;
    const owned = db.get(
      "SELECT owner FROM rules WHERE id = ? AND edge_id = ? AND state != 'removed'",
      ruleId,
      edgeId,
    );
    if (owned === undefined) continue;
    const row = db.get('SELECT * FROM rule_stats WHERE rule_id = ?', ruleId);
    known.set(ruleId, row === undefined ? null : toState(row));
    owners.set(ruleId, str(owned.owner));
  }
  return { known, owners };
}

function save(db: SqliteConnection, state: RuleStatsState): void {
  const { stats, last } = state;
  db.run(
    `INSERT INTO rule_stats (rule_id, at, bytes_in, bytes_out, connections_total, active_connections, rejected,
       connect_errors, bytes_in_per_sec, bytes_out_per_sec, boot_id, last_bytes_in, last_bytes_out,
       last_connections_total, last_rejected, last_connect_errors, rejected_by_reason, last_rejected_by_reason)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (rule_id) DO UPDATE SET at = excluded.at, bytes_in = excluded.bytes_in,
       bytes_out = excluded.bytes_out, connections_total = excluded.connections_total,
       active_connections = excluded.active_connections, rejected = excluded.rejected,
       connect_errors = excluded.connect_errors, bytes_in_per_sec = excluded.bytes_in_per_sec,
       bytes_out_per_sec = excluded.bytes_out_per_sec, boot_id = excluded.boot_id,
       last_bytes_in = excluded.last_bytes_in, last_bytes_out = excluded.last_bytes_out,
       last_connections_total = excluded.last_connections_total, last_rejected = excluded.last_rejected,
       last_connect_errors = excluded.last_connect_errors, rejected_by_reason = excluded.rejected_by_reason,
       last_rejected_by_reason = excluded.last_rejected_by_reason`,
    stats.ruleId,
    stats.at,
    stats.bytesIn,
    stats.bytesOut,
    stats.connectionsTotal,
    stats.activeConnections,
    stats.rejected,
    stats.connectErrors,
    stats.bytesInPerSec,
    stats.bytesOutPerSec,
    state.bootId,
    last.bytesIn,
    last.bytesOut,
    last.connectionsTotal,
    last.rejected,
    last.connectErrors,
    JSON.stringify(stats.rejectedByReason),
    JSON.stringify(state.lastRejectedByReason),
  );
}

export class SqliteStatsStore implements StatsStore {
  private readonly scope: SqliteScope;

  constructor(scope: SqliteScope) {
    this.scope = scope;
  }

  record(
    edgeId: string,
    bootId: string,
    reports: readonly RuleStats[],
    owners: readonly OwnerUsage[] = [],
  ): Promise<RuleStatsRecord[]> {
    return this.scope.use((db) => {
      const recorded = db.atomically(() => {
        const { known, owners: ruleOwners } = loadKnown(db, edgeId, reports);
        const now = db.now();
        const folded = foldStatsReports({ bootId, now, reports, known });
        for (const { state, delta } of folded) {
          save(db, state);
          const rule = { ruleId: state.stats.ruleId, edgeId, owner: ruleOwners.get(state.stats.ruleId)! };
          addTraffic(db, rule, delta.bytesIn, delta.bytesOut, now);
        }
        foldOwnerUsage(db, edgeId, bootId, owners);
        return folded.map(({ state }) => state.stats);
      });
      // After the fold's commit: expired history goes in its own bounded transaction.
      pruneIfDue(db);
      return recorded;
    });
  }

  get(ruleId: string): Promise<RuleStatsRecord | null> {
    return this.scope.use((db) => {
      const row = db.get('SELECT * FROM rule_stats WHERE rule_id = ?', ruleId);
      return row === undefined ? null : toStats(row);
    });
  }

  all(): Promise<LabelledRuleStats[]> {
    return this.scope.use((db) =>
      db
        .all(
          `SELECT s.*, r.name AS rule_name, r.owner, e.name AS edge_name FROM rule_stats s
           JOIN rules r ON r.id = s.rule_id JOIN edges e ON e.id = r.edge_id WHERE r.state != 'removed'`,
        )
        .map((row) => ({
          ...toStats(row),
          edgeName: str(row.edge_name),
          ruleName: str(row.rule_name),
          owner: str(row.owner),
        })),
    );
  }
}
