// The managed edge's life: the same shards, metrics and signals as the standalone edge, with the
// rule set coming from the server over the control session instead of a file. The data plane
// never waits on the session: while it is down the rules keep forwarding, and the server's full
// push on the next session reconciles. A revoked edge drains and exits (exit code 5).

import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { availableParallelism } from 'node:os';
import { ShardSupervisor } from '@sluice/core';
import type { Bundle } from '@sluice/protocol';
import type { Backoff } from './backoff.ts';
import { ControlClient } from './control-client.ts';
import type { EdgeError } from './errors.ts';
import type { Logger } from './logger.ts';
import { ManagedRules } from './managed-rules.ts';
import { EdgeMetrics } from './metrics.ts';
import { startMetricsServer } from './metrics-server.ts';
import { RuleStatsCollector } from './rule-stats.ts';

export interface ManagedEdgeOptions {
  readonly bundle: Bundle;
  /** null: one shard per available core. */
  readonly shards: number | null;
  readonly metrics: { readonly host: string; readonly port: number } | null;
  readonly drainTimeoutSecs: number;
  /** Process-wide signal handlers and exit (the binary); off for tests that run it in-process. */
  readonly ownProcess?: boolean;
  readonly backoff?: Backoff;
  readonly silenceTimeoutMs?: number;
  readonly pingIntervalMs?: number;
}

export const REVOKED_EXIT_CODE = 5;

export class ManagedEdge {
  readonly bootId = randomUUID();
  private readonly options: ManagedEdgeOptions;
  private readonly log: Logger;
  private supervisor: ShardSupervisor | null = null;
  private metricsServer: Server | null = null;
  private client: ControlClient | null = null;
  private stopping = false;

  constructor(options: ManagedEdgeOptions, log: Logger) {
    this.options = options;
    this.log = log;
  }

  /** The control session client (started by start()). */
  get control(): ControlClient {
    if (!this.client) throw new Error('the managed edge has not started');
    return this.client;
  }

  get shardSupervisor(): ShardSupervisor {
    if (!this.supervisor) throw new Error('the managed edge has not started');
    return this.supervisor;
  }

  async start(): Promise<void> {
    if (this.options.ownProcess) this.installSignals();
    const { bundle } = this.options;
    const testHooks = process.env.SLUICE_TEST_HOOKS === '1';
    const shards = this.options.shards ?? availableParallelism();
    const supervisor = await ShardSupervisor.start({
      shards,
      drainTimeoutMs: this.options.drainTimeoutSecs * 1000,
      testHooks,
      log: (level, msg, fields) => this.log[level](fields ?? {}, msg),
    });
    this.supervisor = supervisor;
    if (this.options.metrics) {
      const metrics = new EdgeMetrics(supervisor, bundle.name);
      this.metricsServer = await startMetricsServer({ ...this.options.metrics, metrics, supervisor, testHooks });
      this.log.info({ metrics: `${this.options.metrics.host}:${this.options.metrics.port}` }, 'metrics listening');
    }
    const rules = new ManagedRules(supervisor);
    const stats = new RuleStatsCollector(supervisor);
    const capabilities = ['tcp', 'udp', 'sni', 'proxy_protocol', 'qos', ...(supervisor.splice.enabled ? ['splice'] : [])];
    const client = new ControlClient({
      target: { host: bundle.server.host, port: bundle.server.port, pin: bundle.pin },
      edgeId: bundle.edgeId,
      secret: bundle.secret,
      bootId: this.bootId,
      capabilities,
      log: this.log,
      ...(this.options.backoff ? { backoff: this.options.backoff } : {}),
      ...(this.options.silenceTimeoutMs ? { silenceTimeoutMs: this.options.silenceTimeoutMs } : {}),
      ...(this.options.pingIntervalMs ? { pingIntervalMs: this.options.pingIntervalMs } : {}),
      handler: {
        helloRules: () => rules.current(),
        push: async (push) => {
          const { results, apply } = await rules.push(push);
          const count = (state: string) => results.filter((r) => r.state === state).length;
          this.log.info(
            {
              push_id: push.pushId,
              full: push.full,
              active: count('active'),
              failed: results.filter((r) => r.state === 'failed').map((r) => ({ rule_id: r.ruleId, reason: r.code })),
              removed: count('removed'),
              added: apply?.added ?? [],
              changed: apply?.changed ?? [],
              rules: rules.size,
            },
            'rules applied',
          );
          return results;
        },
        stats: () => stats.collect(rules.ids(), rules.idsByName()),
      },
    });
    this.client = client;
    client.on('revoked', (error) => this.onRevoked(error));
    client.start();
    this.log.info(
      {
        mode: 'managed',
        client: bundle.name,
        edge_id: bundle.edgeId,
        server: `${bundle.server.host}:${bundle.server.port}`,
        boot_id: this.bootId,
        shards,
        relay: supervisor.splice.enabled ? 'splice' : 'js',
        splice: supervisor.splice.reason,
      },
      'edge ready',
    );
  }

  /** Ends the control session, drains every rule, closes the metrics server. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.client?.stop();
    if (!this.supervisor) return;
    this.log.info({ drain_timeout_secs: this.options.drainTimeoutSecs }, 'draining');
    this.metricsServer?.closeIdleConnections();
    await this.supervisor.stop();
    await new Promise<void>((resolve) => (this.metricsServer ? this.metricsServer.close(() => resolve()) : resolve()));
    this.log.info({}, 'stopped');
  }

  private onRevoked(error: EdgeError): void {
    this.log.error(
      { reason: error.code, detail: error.message, exit_code: REVOKED_EXIT_CODE },
      'edge revoked: draining and exiting; enroll again to manage this host',
    );
    if (!this.options.ownProcess) {
      void this.stop();
      return;
    }
    void this.stop().then(() => process.exit(REVOKED_EXIT_CODE));
  }

  private installSignals(): void {
    process.on('SIGHUP', () => {
      this.log.info({}, 'SIGHUP ignored: a managed edge takes its rules from the server');
    });
    const drain = (signal: string): void => {
      if (this.stopping) {
        if (signal === 'SIGINT') {
          this.log.warn({}, 'second SIGINT: stopping now');
          void (this.supervisor?.kill() ?? Promise.resolve()).finally(() => process.exit(130));
        }
        return;
      }
      if (!this.supervisor) {
        this.log.info({ signal }, 'stopped before start-up finished');
        process.exit(0);
      }
      void this.stop().then(() => process.exit(0));
    };
    process.on('SIGTERM', () => drain('SIGTERM'));
    process.on('SIGINT', () => drain('SIGINT'));
  }
}
