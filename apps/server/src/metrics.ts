// The server's Prometheus series (docs/server-api.md). Gauges of edges and rules, and the
// per-rule series from edge stats, are read from the store when scraped: they survive a server
// restart, follow renames, and drop a deleted rule without bookkeeping here.

import type { ApiErrorCode } from '@sluice/api';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { PENDING_REFUSAL_REASONS } from './control/pending-connections.ts';
import type { QuotaRecord, RuleState } from './store/records.ts';
import type { LabelledRuleStats, Store } from './store/store.ts';

export interface MetricsSource {
  readonly store: Store;
  connectedEdges(): number;
}

const RULE_LABELS = ['client', 'rule', 'owner'] as const;
const STATES: readonly RuleState[] = ['pending', 'active', 'failed', 'removed'];

/** The error codes that refuse a caller (not a request): sluice_server_denials_total's reasons. */
export const DENIAL_CODES: readonly ApiErrorCode[] = [
  'unauthorized',
  'forbidden',
  'rate_limited',
  'csrf_failed',
  'password_change_required',
  'not_granted',
];

/**
 * Why the server refused a caller (an API token, session or login; an edge's hello or enrollment):
 * the `reason` label of sluice_server_auth_failures_total.
 */
export const AUTH_FAILURE_REASONS = [
  'missing_token',
  'unknown_token',
  'unknown_session',
  'csrf',
  'bad_password',
  'rate_limited',
  'secret_invalid',
  'edge_revoked',
  'edge_unknown',
  'version_unsupported',
  'code_unknown',
  'code_used',
  'code_expired',
  'code_superseded',
] as const;
export type AuthFailureReason = (typeof AUTH_FAILURE_REASONS)[number];

export class ServerMetrics {
  readonly registry = new Registry();
  readonly apiRequests: Counter<'route' | 'outcome'>;
  readonly denials: Counter<'reason'>;
  readonly authFailures: Counter<'reason'>;
  readonly controlRefused: Counter<'reason'>;
  readonly pushAck: Histogram<'kind'>;

  constructor(source: MetricsSource) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.denials = new Counter({
      name: 'sluice_server_denials_total',
      help: 'API requests refused to their caller, by the error code answered',
      labelNames: ['reason'],
      registers,
    });
    for (const reason of DENIAL_CODES) this.denials.inc({ reason }, 0);
    this.apiRequests = new Counter({
      name: 'sluice_server_api_requests_total',
      help: 'API requests by route and outcome (the error code, or ok)',
      labelNames: ['route', 'outcome'],
      registers,
    });
    this.authFailures = new Counter({
      name: 'sluice_server_auth_failures_total',
      help: 'Refused API tokens, sessions, logins and edge hellos, by reason',
      labelNames: ['reason'],
      registers,
    });
    for (const reason of AUTH_FAILURE_REASONS) this.authFailures.inc({ reason }, 0);
    this.controlRefused = new Counter({
      name: 'sluice_server_control_connections_cut_total',
      help: 'Control connections cut before they authenticated: over the per-source or total cap, or silent past the hello deadline',
      labelNames: ['reason'],
      registers,
    });
    for (const reason of PENDING_REFUSAL_REASONS) this.controlRefused.inc({ reason }, 0);
    this.pushAck = new Histogram({
      name: 'sluice_server_push_ack_seconds',
      help: 'From a push sent to an edge to its ack (the edge has applied it): full pushes at each session start, change pushes for API edits',
      labelNames: ['kind'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    for (const kind of ['full', 'change']) this.pushAck.zero({ kind });

    new Gauge({
      name: 'sluice_server_edges_connected',
      help: 'Edges with a control session now',
      registers,
      collect() {
        this.set(source.connectedEdges());
      },
    });
    new Gauge({
      name: 'sluice_server_edges',
      help: 'Edges known to the server',
      registers,
      async collect() {
        this.set((await source.store.edges.list()).length);
      },
    });
    new Gauge({
      name: 'sluice_server_rules',
      help: 'Rules by state',
      labelNames: ['state'],
      registers,
      async collect() {
        const counts = await source.store.rules.countByState();
        for (const state of STATES) this.set({ state }, counts[state]);
      },
    });

    // Every rule's series, read from the store at scrape time.
    const perRule = (
      metric: typeof Counter<string> | typeof Gauge<string>,
      name: string,
      help: string,
      value: (stats: LabelledRuleStats) => number,
    ): void => {
      new metric({
        name,
        help,
        labelNames: RULE_LABELS,
        registers,
        async collect() {
          const all = await source.store.stats.all();
          this.reset();
          for (const stats of all) {
            const labels = { client: stats.edgeName, rule: stats.ruleName, owner: stats.owner };
            if (this instanceof Counter) this.inc(labels, value(stats));
            else this.set(labels, value(stats));
          }
        },
      });
    };
    perRule(
      Counter,
      'sluice_rule_bytes_in_total',
      'Bytes from clients to targets, since the rule was created',
      (s) => s.bytesIn,
    );
    perRule(
      Counter,
      'sluice_rule_bytes_out_total',
      'Bytes from targets to clients, since the rule was created',
      (s) => s.bytesOut,
    );
    perRule(
      Counter,
      'sluice_rule_connections_total',
      'Connections accepted, since the rule was created',
      (s) => s.connectionsTotal,
    );
    // Every quota's usage in its current period, read from the store at scrape time.
    const perQuota = (name: string, help: string, value: (quota: QuotaRecord) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['user', 'client'],
        registers,
        async collect() {
          const quotas = await source.store.quotas.list({});
          this.reset();
          for (const quota of quotas)
            this.set({ user: quota.userName, client: quota.edgeName }, value(quota));
        },
      });
    };
    perQuota(
      'sluice_server_quota_used_bytes',
      "Bytes a user moved on an edge (client) in the quota's current period",
      (q) => q.usedBytes,
    );
    perQuota(
      'sluice_server_quota_remaining_bytes',
      "Bytes a user may still move on an edge (client) in the quota's current period",
      (q) => Math.max(0, q.monthlyBytes - q.usedBytes),
    );
    perRule(
      Gauge,
      'sluice_rule_active_connections',
      'Open connections at the last stats report',
      (s) => s.activeConnections,
    );
  }
}
