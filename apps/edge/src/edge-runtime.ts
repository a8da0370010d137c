// One edge process's life, whichever source its rules come from: start the shards, serve
// metrics, hand the supervisor to the rule source, and answer signals: SIGHUP asks the source to
// reload; SIGTERM and SIGINT drain; a second SIGINT stops at once.
//
// Draining (DESIGN.md): the listeners close at once, open connections get drain_timeout_secs. The
// metrics endpoint keeps answering scrapes until the drain is over, but its idle keep-alive
// connections are closed when the drain starts, whatever started it (a signal, a revoke, or
// stop() in-process), so no scraper holds the process open past the drain.

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { relayPathName, ShardSupervisor } from '@sluice/core';
import { maxConnections, maxWaiting, readDescriptorLimit } from './descriptor-limit.ts';
import type { Logger } from './logger.ts';
import type { RuleSource } from './rule-source.ts';

/** What both modes set: from the file (standalone) or from the flags (managed). */
export interface EdgeSettings {
  /** The `client` label. */
  readonly name: string;
  /** null: one shard per available core. */
  readonly shards: number | null;
  readonly metrics: { readonly host: string; readonly port: number } | null;
  readonly drainTimeoutSecs: number;
  /** The most TCP connections held at once; null: derived from the descriptor limit. */
  readonly maxConnections: number | null;
  /** Where maxConnections was set, for an error about it: the config file, or the flag. */
  readonly maxConnectionsFrom?: string;
}

export interface EdgeRuntimeOptions extends EdgeSettings {
  /** How many rules can be active at once (counter and QoS slots); default 4096. */
  readonly maxRules?: number;
  readonly source: RuleSource;
  readonly log: Logger;
  /** Process-wide signal handlers and exit (the binary); off for tests that run it in-process. */
  readonly ownProcess?: boolean;
}

/** A second SIGINT: stopped at once, as a shell reports an interrupted command. */
const INTERRUPTED_EXIT_CODE = 130;

export class EdgeRuntime {
  private readonly options: EdgeRuntimeOptions;
  private readonly log: Logger;
  private supervisor: ShardSupervisor | null = null;
  private metricsServer: Server | null = null;
  private stopping: Promise<void> | null = null;
  /** Settles when start() is over: a reload asked for during start-up runs after it. */
  private readonly started: Promise<void>;
  private markStarted: () => void = () => {};

  constructor(options: EdgeRuntimeOptions) {
    this.options = options;
    this.log = options.log;
    this.started = new Promise((resolve) => {
      this.markStarted = resolve;
    });
  }

  /** The port /metrics listens on (the one the kernel picked, for port 0); null without metrics. */
  get metricsPort(): number | null {
    const address = this.metricsServer?.address();
    return address ? (address as AddressInfo).port : null;
  }

  async start(): Promise<void> {
    // Signals are ours from the first moment: a SIGHUP or SIGTERM during start-up must not
    // take Node's default action (exit) while rules are half applied.
    if (this.options.ownProcess) this.installSignals();
    try {
      await this.startShardsAndSource();
    } finally {
      this.markStarted();
    }
  }

  private async startShardsAndSource(): Promise<void> {
    const { name, source } = this.options;
    const testHooks = process.env.SLUICE_TEST_HOOKS === '1';
    const shards = this.options.shards ?? availableParallelism();
    const nofile = readDescriptorLimit();
    const limit = maxConnections(
      this.options.maxConnections,
      nofile,
      this.options.maxConnectionsFrom ?? '--max-connections',
    );
    const waiting = maxWaiting(limit, nofile);
    const supervisor = await ShardSupervisor.start({
      maxConnections: limit,
      maxWaiting: waiting,
      shards,
      drainTimeoutMs: this.options.drainTimeoutSecs * 1000,
      ...(this.options.maxRules === undefined ? {} : { slotCapacity: this.options.maxRules }),
      testHooks,
      log: (level, msg, fields) => this.log[level](fields ?? {}, msg),
    });
    this.supervisor = supervisor;
    if (this.options.metrics) {
      // prom-client and the HTTP server load only for an edge that serves metrics.
      const [{ EdgeMetrics }, { startMetricsServer }] = await Promise.all([
        import('./metrics.ts'),
        import('./metrics-server.ts'),
      ]);
      const metrics = new EdgeMetrics(supervisor, name);
      this.metricsServer = await startMetricsServer({
        ...this.options.metrics,
        metrics,
        supervisor,
        testHooks,
      });
      this.log.info({ metrics: `${this.options.metrics.host}:${this.metricsPort}` }, 'metrics listening');
    }
    const ready = await source.start({ supervisor, log: this.log, shutdown: (code) => this.shutdown(code) });
    this.log.info(
      {
        mode: source.mode,
        client: name,
        shards,
        relay: relayPathName(supervisor.splice),
        splice: supervisor.splice.reason,
        // The limits the edge runs under, once: descriptors (soft, hard) and connections (0: none).
        nofile: nofile.soft,
        nofile_hard: nofile.hard,
        max_connections: limit,
        max_waiting: waiting,
        ...ready,
      },
      'edge ready',
    );
  }

  /** Asks the rule source to reload (SIGHUP); during start-up, once start-up is over. */
  async reload(): Promise<void> {
    await this.started;
    if (this.stopping || !this.supervisor) return;
    await this.options.source.reload();
  }

  /** Stops the rule source, drains every rule, closes the metrics server. */
  stop(): Promise<void> {
    this.stopping ??= this.drainAndStop();
    return this.stopping;
  }

  private async drainAndStop(): Promise<void> {
    this.options.source.stop();
    const supervisor = this.supervisor;
    if (!supervisor) return;
    this.log.info({ drain_timeout_secs: supervisor.drainTimeoutMs / 1000 }, 'draining');
    this.metricsServer?.closeIdleConnections();
    await supervisor.stop();
    const server = this.metricsServer;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    this.log.info({}, 'stopped');
  }

  /** Drains and stops; an edge that owns its process then exits with `exitCode`. */
  private shutdown(exitCode: number): void {
    void this.stop().then(() => {
      if (this.options.ownProcess) process.exit(exitCode);
    });
  }

  private installSignals(): void {
    process.on('SIGHUP', () => void this.reload());
    const drain = (signal: string): void => {
      if (this.stopping) {
        if (signal === 'SIGINT') {
          this.log.warn({}, 'second SIGINT: stopping now');
          void (this.supervisor?.kill() ?? Promise.resolve()).finally(() =>
            process.exit(INTERRUPTED_EXIT_CODE),
          );
        }
        return;
      }
      if (!this.supervisor) {
        this.log.info({ signal }, 'stopped before start-up finished');
        process.exit(0);
      }
      this.shutdown(0);
    };
    process.on('SIGTERM', () => drain('SIGTERM'));
    process.on('SIGINT', () => drain('SIGINT'));
  }
}
