// The edge's metrics: one prom-client registry whose rule series are read from the counters
// buffer at scrape time (no message per connection), and the same numbers as JSON.

import type { RelayPathName, ShardSupervisor } from '@sluice/core';
import {
  ACCEPT_ERROR_REASONS,
  acceptErrorField,
  CONNECT_ERROR_REASONS,
  connectErrorField,
  FIELD,
  REJECT_REASONS,
  RELAY_ERROR_REASONS,
  rejectField,
  relayErrorField,
  relayPathName,
} from '@sluice/core';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';

const RULE_LABELS = ['client', 'rule', 'owner'] as const;
type RuleLabels = Record<(typeof RULE_LABELS)[number], string>;

export interface RuleJson {
  name: string;
  owner: string;
  protocol: string;
  listen: string;
  state: string;
  reason: string | null;
  error: string | null;
  bytes_in: number;
  bytes_out: number;
  active_connections: number;
  connections_total: number;
  connect_errors: Record<string, number>;
  rejected: Record<string, number>;
  accept_errors: Record<string, number>;
  relay_errors: Record<string, number>;
  throttled_seconds: { in: number; out: number };
  failovers: number;
  /** TCP urgent (MSG_OOB) bytes the splice relay stepped over. */
  urgent_bytes: number;
  /** Times a splice relay direction waited for a pipe (out of descriptors or memory). */
  pipe_waits: number;
  targets: { target: string; up: boolean }[];
  /** UDP rules only. */
  udp?: {
    packets_in: number;
    packets_out: number;
    active_flows: number;
    flows_dropped: number;
    datagrams_dropped: number;
    /** Datagrams the kernel dropped on the rule's sockets, their receive buffer full. */
    receive_buffer_drops: number;
  };
  shards: {
    shard: number;
    connections_total: number;
    active_connections: number;
    bytes_in: number;
    bytes_out: number;
  }[];
}

export interface EdgeJson {
  client: string;
  relay: { path: RelayPathName; splice_enabled: boolean; reason: string };
  shards: { configured: number; running: number; restarts: number };
  /** TCP connections the edge holds now, and the most it holds at once (0: no limit). */
  connections: { open: number; max: number };
  rules: RuleJson[];
}

export class EdgeMetrics {
  readonly registry = new Registry();
  private readonly supervisor: ShardSupervisor;
  private readonly client: string;

  constructor(supervisor: ShardSupervisor, client: string) {
    this.supervisor = supervisor;
    this.client = client;
    collectDefaultMetrics({ register: this.registry });
    this.ruleCounter('sluice_rule_bytes_in_total', 'Bytes relayed from clients to targets.', FIELD.BYTES_IN);
    this.ruleCounter(
      'sluice_rule_bytes_out_total',
      'Bytes relayed from targets to clients.',
      FIELD.BYTES_OUT,
    );
    this.ruleCounter(
      'sluice_rule_connections_total',
      'Connections accepted (UDP: flows started).',
      FIELD.TOTAL,
    );
    this.ruleGauge('sluice_rule_active_connections', 'Connections open now.', FIELD.ACTIVE);
    this.ruleCounter(
      'sluice_rule_packets_in_total',
      'UDP datagrams relayed from clients to targets.',
      FIELD.PACKETS_IN,
      'udp',
    );
    this.ruleCounter(
      'sluice_rule_packets_out_total',
      'UDP datagrams relayed from targets to clients.',
      FIELD.PACKETS_OUT,
      'udp',
    );
    this.ruleGauge('sluice_rule_active_flows', 'UDP flows open now.', FIELD.ACTIVE_FLOWS, 'udp');
    this.ruleCounter(
      'sluice_rule_flows_dropped_total',
      'UDP datagrams from new clients dropped because the flow table was full (max_flows).',
      FIELD.FLOWS_DROPPED,
      'udp',
    );
    this.ruleCounter(
      'sluice_rule_datagrams_dropped_total',
      'UDP datagrams dropped over the bandwidth budget (or while a new flow was still connecting).',
      FIELD.DATAGRAMS_DROPPED,
      'udp',
    );
    this.ruleCounter(
      'sluice_rule_receive_buffer_drops_total',
      "UDP datagrams the kernel dropped because a rule socket's receive buffer was full (udp_receive_buffer).",
      FIELD.RECEIVE_BUFFER_DROPS,
      'udp',
    );
    this.reasonCounter(
      'sluice_rule_connect_errors_total',
      'Failed connects to a target, by reason.',
      CONNECT_ERROR_REASONS,
      connectErrorField,
    );
    this.reasonCounter(
      'sluice_rule_rejected_total',
      'Connections closed at accept, by reason.',
      REJECT_REASONS,
      rejectField,
    );
    this.reasonCounter(
      'sluice_rule_accept_errors_total',
      'Connections this host could not take in (out of descriptors or memory), by reason.',
      ACCEPT_ERROR_REASONS,
      acceptErrorField,
    );
    this.reasonCounter(
      'sluice_rule_relay_errors_total',
      'Relayed connections that ended in a reset or error rather than a clean close, by reason.',
      RELAY_ERROR_REASONS,
      relayErrorField,
    );
    this.ruleCounter(
      'sluice_rule_failovers_total',
      'Connections that had to move past their first-choice target.',
      FIELD.FAILOVERS,
    );
    this.ruleCounter(
      'sluice_rule_urgent_bytes_total',
      'TCP urgent (MSG_OOB) bytes stepped over by the splice relay; they are not part of the stream.',
      FIELD.URGENT_BYTES,
    );
    this.ruleCounter(
      'sluice_rule_pipe_waits_total',
      'Times a splice relay direction found no pipe (out of descriptors or memory) and waited to retry.',
      FIELD.PIPE_WAITS,
    );
    this.throttled();
    this.targetUp();
    this.shardMetrics();
    this.ruleState();
  }

  json(): EdgeJson {
    const counters = this.supervisor.counters;
    const rules = this.supervisor.snapshot().map((rule): RuleJson => {
      const slot = rule.slot;
      const sum = (field: number): number => (slot === null ? 0 : Number(counters.sum(slot, field)));
      const shards = [];
      for (let shard = 0; shard < counters.shardCount && slot !== null; shard++) {
        const row = counters.row(slot, shard);
        shards.push({
          shard,
          connections_total: Number(counters.read(row, FIELD.TOTAL)),
          active_connections: Number(counters.read(row, FIELD.ACTIVE)),
          bytes_in: Number(counters.read(row, FIELD.BYTES_IN)),
          bytes_out: Number(counters.read(row, FIELD.BYTES_OUT)),
        });
      }
      return {
        name: rule.name,
        owner: rule.owner,
        protocol: rule.protocol,
        listen: rule.listen,
        state: rule.state,
        reason: rule.error?.code ?? null,
        error: rule.error?.message ?? null,
        bytes_in: sum(FIELD.BYTES_IN),
        bytes_out: sum(FIELD.BYTES_OUT),
        active_connections: sum(FIELD.ACTIVE),
        connections_total: sum(FIELD.TOTAL),
        connect_errors: Object.fromEntries(CONNECT_ERROR_REASONS.map((r) => [r, sum(connectErrorField(r))])),
        rejected: Object.fromEntries(REJECT_REASONS.map((r) => [r, sum(rejectField(r))])),
        accept_errors: Object.fromEntries(ACCEPT_ERROR_REASONS.map((r) => [r, sum(acceptErrorField(r))])),
        relay_errors: Object.fromEntries(RELAY_ERROR_REASONS.map((r) => [r, sum(relayErrorField(r))])),
        throttled_seconds: { in: sum(FIELD.THROTTLED_NS_IN) / 1e9, out: sum(FIELD.THROTTLED_NS_OUT) / 1e9 },
        failovers: sum(FIELD.FAILOVERS),
        urgent_bytes: sum(FIELD.URGENT_BYTES),
        pipe_waits: sum(FIELD.PIPE_WAITS),
        targets: rule.targets.map((target, i) => ({
          target,
          up: slot === null || ((this.targetsDown(slot) >> BigInt(i)) & 1n) === 0n,
        })),
        ...(rule.protocol === 'udp'
          ? {
              udp: {
                packets_in: sum(FIELD.PACKETS_IN),
                packets_out: sum(FIELD.PACKETS_OUT),
                active_flows: sum(FIELD.ACTIVE_FLOWS),
                flows_dropped: sum(FIELD.FLOWS_DROPPED),
                datagrams_dropped: sum(FIELD.DATAGRAMS_DROPPED),
                receive_buffer_drops: sum(FIELD.RECEIVE_BUFFER_DROPS),
              },
            }
          : {}),
        shards,
      };
    });
    const splice = this.supervisor.splice;
    return {
      client: this.client,
      relay: {
        path: relayPathName(splice),
        splice_enabled: splice.enabled,
        reason: splice.reason,
      },
      shards: {
        configured: this.supervisor.shardCount,
        running: this.supervisor.shardsRunning,
        restarts: this.supervisor.restarts,
      },
      connections: { open: this.supervisor.openConnections, max: this.supervisor.maxConnections },
      rules,
    };
  }

  /** Rules that hold a counter slot, with their labels. */
  private *slotted(): Generator<{ slot: number; labels: RuleLabels; protocol: string }> {
    for (const rule of this.supervisor.snapshot()) {
      if (rule.slot === null) continue;
      yield {
        slot: rule.slot,
        labels: { client: this.client, rule: rule.name, owner: rule.owner },
        protocol: rule.protocol,
      };
    }
  }

  /** A counter per rule; `only` limits it to rules of one protocol (UDP-only series). */
  private ruleCounter(name: string, help: string, field: number, only?: 'udp'): void {
    this.ruleSeries(Counter, name, help, field, only);
  }

  private ruleGauge(name: string, help: string, field: number, only?: 'udp'): void {
    this.ruleSeries(Gauge, name, help, field, only);
  }

  private ruleSeries(
    metric: typeof Counter<string> | typeof Gauge<string>,
    name: string,
    help: string,
    field: number,
    only?: 'udp',
  ): void {
    const values = this.ruleValues(field, only);
    new metric({
      name,
      help,
      labelNames: RULE_LABELS,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [labels, value] of values()) {
          if (this instanceof Counter) this.inc(labels, value);
          else this.set(labels, value);
        }
      },
    });
  }

  /** A field's value summed over shards, per slotted rule (of one protocol when `only` is set). */
  private ruleValues(field: number, only?: 'udp'): () => Generator<[RuleLabels, number]> {
    const metrics = this;
    return function* () {
      for (const { slot, labels, protocol } of metrics.slotted()) {
        if (only === undefined || protocol === only)
          yield [labels, Number(metrics.supervisor.counters.sum(slot, field))];
      }
    };
  }

  private reasonCounter<R extends string>(
    name: string,
    help: string,
    reasons: readonly R[],
    fieldOf: (reason: R) => number,
  ): void {
    const metrics = this;
    new Counter({
      name,
      help,
      labelNames: [...RULE_LABELS, 'reason'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const { slot, labels } of metrics.slotted()) {
          for (const reason of reasons) {
            this.inc({ ...labels, reason }, Number(metrics.supervisor.counters.sum(slot, fieldOf(reason))));
          }
        }
      },
    });
  }

  private throttled(): void {
    const metrics = this;
    new Counter({
      name: 'sluice_rule_throttled_seconds_total',
      help: 'Time a direction waited for bandwidth tokens.',
      labelNames: [...RULE_LABELS, 'direction'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const { slot, labels } of metrics.slotted()) {
          const counters = metrics.supervisor.counters;
          this.inc({ ...labels, direction: 'in' }, Number(counters.sum(slot, FIELD.THROTTLED_NS_IN)) / 1e9);
          this.inc({ ...labels, direction: 'out' }, Number(counters.sum(slot, FIELD.THROTTLED_NS_OUT)) / 1e9);
        }
      },
    });
  }

  /** 1 while every shard counts the target up; 0 once any shard has it down. */
  private targetUp(): void {
    const metrics = this;
    new Gauge({
      name: 'sluice_target_up',
      help: 'Whether a target is up (1) or down after failed connects (0), by target health.',
      labelNames: [...RULE_LABELS, 'target'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const rule of metrics.supervisor.snapshot()) {
          if (rule.slot === null) continue;
          const labels = { client: metrics.client, rule: rule.name, owner: rule.owner };
          const down = metrics.targetsDown(rule.slot);
          rule.targets.forEach((target, i) => {
            this.set({ ...labels, target }, (down >> BigInt(i)) & 1n ? 0 : 1);
          });
        }
      },
    });
  }

  /** Bit i set when any shard counts target i down. */
  private targetsDown(slot: number): bigint {
    const counters = this.supervisor.counters;
    let down = 0n;
    for (let shard = 0; shard < counters.shardCount; shard++) {
      down |= counters.read(counters.row(slot, shard), FIELD.TARGETS_DOWN);
    }
    return down;
  }

  private shardMetrics(): void {
    const supervisor = this.supervisor;
    this.edgeGauge('sluice_shards', 'Shards (worker threads) running now.', () => supervisor.shardsRunning);
    this.edgeGauge(
      'sluice_shards_configured',
      'Shards the edge runs when healthy.',
      () => supervisor.shardCount,
    );
    this.edgeGauge(
      'sluice_edge_connections',
      'TCP connections the edge holds now, over every rule and shard (what max_connections counts).',
      () => supervisor.openConnections,
    );
    this.edgeGauge(
      'sluice_edge_max_connections',
      'The most TCP connections the edge holds at once (max_connections; 0: no limit).',
      () => supervisor.maxConnections,
    );
    const metrics = this;
    new Gauge({
      name: 'sluice_splice_enabled',
      help: 'Whether TCP relays through splice(2) (1) or the JS path (0); reason says why.',
      labelNames: ['client', 'reason'],
      registers: [this.registry],
      collect() {
        this.reset();
        const splice = metrics.supervisor.splice;
        this.set({ client: metrics.client, reason: splice.reason }, splice.enabled ? 1 : 0);
      },
    });
    new Counter({
      name: 'sluice_shard_restarts_total',
      help: 'Shards that died and were restarted.',
      labelNames: ['client'],
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc({ client: metrics.client }, metrics.supervisor.restarts);
      },
    });
  }

  /** A gauge of the whole edge, labelled with its client name only. */
  private edgeGauge(name: string, help: string, value: () => number): void {
    const client = this.client;
    new Gauge({
      name,
      help,
      labelNames: ['client'],
      registers: [this.registry],
      collect() {
        this.set({ client }, value());
      },
    });
  }

  private ruleState(): void {
    const metrics = this;
    new Gauge({
      name: 'sluice_rule_state',
      help: 'Rule state: 1 on the series of the state the rule is in (pending, active, failed, draining).',
      labelNames: [...RULE_LABELS, 'state', 'reason'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const rule of metrics.supervisor.snapshot()) {
          const labels = { client: metrics.client, rule: rule.name, owner: rule.owner };
          this.set({ ...labels, state: rule.state, reason: rule.error?.code ?? '' }, 1);
        }
      },
    });
  }
}
