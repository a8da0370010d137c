// The server's Prometheus series (docs/server-api.md). Gauges of edges and rules, and the
// per-rule series from edge stats, are read from the store when scraped: they survive a server
// restart, follow renames, and drop a deleted rule without bookkeeping here.

import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { RuleState } from './store/records.ts';
import type { LabelledRuleStats, Store } from './store/store.ts';

export interface MetricsSource {
  readonly store: Store;
  connectedEdges(): number;
}

const RULE_LABELS = ['client', 'rule', 'owner'] as const;
const STATES: readonly RuleState[] = ['pending', 'active', 'failed', 'removed'];

export class ServerMetrics {
  readonly registry = new Registry();
  readonly apiRequests: Counter<'route' | 'outcome'>;
  readonly authFailures: Counter<'reason'>;

  constructor(source: MetricsSource) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.apiRequests = new Counter({
      name: 'sluice_server_api_requests_total',
      help: 'API requests by route and outcome (the error code, or ok)',
      labelNames: ['route', 'outcome'],
      registers,
    });
    this.authFailures = new Counter({
      name: 'sluice_server_auth_failures_total',
      help: 'Refused API tokens and edge hellos, by reason',
      labelNames: ['reason'],
      registers,
    });
    for (const reason of ['missing_token', 'unknown_token', 'secret_invalid', 'edge_revoked'])
      this.authFailures.inc({ reason }, 0);

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

    /** Each rule's labels and one value of its stats, as the store holds them now. */
    const ruleValues = async (value: (stats: LabelledRuleStats) => number) =>
      (await source.store.stats.all()).map(
        (stats) =>
          [{ client: stats.edgeName, rule: stats.ruleName, owner: stats.owner }, value(stats)] as const,
      );
    const perRule = (name: string, help: string, value: (stats: LabelledRuleStats) => number): void => {
      new Counter({
        name,
        help,
        labelNames: RULE_LABELS,
        registers,
        async collect() {
          const values = await ruleValues(value);
          this.reset();
          for (const [labels, count] of values) this.inc(labels, count);
        },
      });
    };
    perRule(
      'sluice_rule_bytes_in_total',
      'Bytes from clients to targets, since the rule was created',
      (s) => s.bytesIn,
    );
    perRule(
      'sluice_rule_bytes_out_total',
      'Bytes from targets to clients, since the rule was created',
      (s) => s.bytesOut,
    );
    perRule(
      'sluice_rule_connections_total',
      'Connections accepted, since the rule was created',
      (s) => s.connectionsTotal,
    );
    new Gauge({
      name: 'sluice_rule_active_connections',
      help: 'Open connections at the last stats report',
      labelNames: RULE_LABELS,
      registers,
      async collect() {
        const values = await ruleValues((stats) => stats.activeConnections);
        this.reset();
        for (const [labels, open] of values) this.set(labels, open);
      },
    });
  }
}
