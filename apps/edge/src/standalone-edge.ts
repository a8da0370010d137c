// The standalone edge's life: load the file, start the shards, apply the rules, serve metrics,
// and answer signals (SIGHUP reloads; SIGTERM/SIGINT drain; a second SIGINT stops at once).

import type { Server } from 'node:http';
import { availableParallelism } from 'node:os';
import { CONFIG_ERRORS, loadStandaloneConfig, type StandaloneConfig } from '@sluice/config';
import { type ApplyResult, ShardSupervisor } from '@sluice/core';
import type { Logger } from './logger.ts';
import { EdgeMetrics } from './metrics.ts';
import { startMetricsServer } from './metrics-server.ts';

export class StandaloneEdge {
  private config: StandaloneConfig;
  private readonly log: Logger;
  private supervisor: ShardSupervisor | null = null;
  private metricsServer: Server | null = null;
  private stopping = false;
  private reloading: Promise<void> = Promise.resolve();

  constructor(config: StandaloneConfig, log: Logger) {
    this.config = config;
    this.log = log;
  }

  async start(): Promise<void> {
    // Signals are ours from the first moment: a SIGHUP or SIGTERM during start-up must not
    // take Node's default action (exit) while rules are half applied.
    this.installSignals();
    let started: () => void = () => {};
    this.reloading = new Promise((resolve) => {
      started = resolve;
    });
    try {
      await this.startShardsAndRules();
    } finally {
      started();
    }
  }

  private async startShardsAndRules(): Promise<void> {
    const testHooks = process.env.SLUICE_TEST_HOOKS === '1';
    const shards = this.config.shards ?? availableParallelism();
    this.supervisor = await ShardSupervisor.start({
      shards,
      drainTimeoutMs: this.config.drainTimeoutSecs * 1000,
      testHooks,
      log: (level, msg, fields) => this.log[level](fields ?? {}, msg),
    });
    if (this.config.metrics) {
      const metrics = new EdgeMetrics(this.supervisor, this.config.name);
      this.metricsServer = await startMetricsServer({
        ...this.config.metrics,
        metrics,
        supervisor: this.supervisor,
        testHooks,
      });
      this.log.info({ metrics: `${this.config.metrics.host}:${this.config.metrics.port}` }, 'metrics listening');
    }
    const result = await this.supervisor.apply(this.config.rules, this.config.owners);
    this.log.info(
      {
        client: this.config.name,
        shards,
        relay: this.supervisor.splice.enabled ? 'splice' : 'js',
        splice: this.supervisor.splice.reason,
        rules: this.config.rules.length,
        failed: result.failed.length,
      },
      'edge ready',
    );
  }

  /** Re-reads the file; a file that does not validate changes nothing. */
  reload(): Promise<void> {
    // Chained after start-up too: a SIGHUP that arrives while the first rule set is being
    // applied runs once that is done.
    this.reloading = this.reloading.then(async () => {
      if (this.stopping || !this.supervisor) return;
      let next: StandaloneConfig;
      try {
        next = await loadStandaloneConfig(this.config.file);
      } catch (err) {
        const data = CONFIG_ERRORS.is(err) ? err.toData() : { code: 'reload_failed', message: String(err) };
        this.log.error({ err: data, file: this.config.file }, 'reload rejected');
        return;
      }
      for (const key of ['shards', 'metrics', 'name'] as const) {
        if (JSON.stringify(next[key]) !== JSON.stringify(this.config[key])) {
          this.log.warn({ key, file: next.file }, `reload: a change of "${key}" takes effect at the next restart`);
        }
      }
      // Applies to rules retired by this reload and to the final drain.
      this.supervisor.drainTimeoutMs = next.drainTimeoutSecs * 1000;
      const result: ApplyResult = await this.supervisor.apply(next.rules, next.owners);
      // shards, metrics and name keep their running values until a restart.
      this.config = { ...next, shards: this.config.shards, metrics: this.config.metrics, name: this.config.name };
      this.log.info(
        {
          added: result.added,
          removed: result.removed,
          changed: result.changed,
          unchanged: result.unchanged.length,
          failed: result.failed.map((f) => ({ rule: f.name, reason: f.error.code })),
        },
        'reload applied',
      );
    });
    return this.reloading;
  }

  async stop(): Promise<void> {
    if (this.stopping || !this.supervisor) return;
    this.stopping = true;
    this.log.info({ drain_timeout_secs: this.config.drainTimeoutSecs }, 'draining');
    await this.supervisor.stop();
    await new Promise<void>((resolve) => (this.metricsServer ? this.metricsServer.close(() => resolve()) : resolve()));
    this.log.info({}, 'stopped');
  }

  private installSignals(): void {
    process.on('SIGHUP', () => {
      this.log.info({ file: this.config.file }, 'reload requested (SIGHUP)');
      void this.reload();
    });
    const drain = (signal: string): void => {
      if (this.stopping) {
        if (signal === 'SIGINT') {
          this.log.warn({}, 'second SIGINT: stopping now');
          void this.supervisor?.kill().finally(() => process.exit(130));
        }
        return;
      }
      if (!this.supervisor) {
        this.log.info({ signal }, 'stopped before start-up finished');
        process.exit(0);
      }
      this.metricsServer?.closeIdleConnections();
      void this.stop().then(() => process.exit(0));
    };
    process.on('SIGTERM', () => drain('SIGTERM'));
    process.on('SIGINT', () => drain('SIGINT'));
  }
}
