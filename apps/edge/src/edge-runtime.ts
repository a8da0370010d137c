// One edge process's life, whichever source its rules come from: start the shards, serve
// metrics, hand the supervisor to the rule source, and answer signals: SIGHUP asks the source to
// reload; SIGUSR2 hands the edge over to a new process (successor.ts, predecessor.ts); SIGTERM
// and SIGINT drain; a second SIGINT stops at once. Under systemd (NOTIFY_SOCKET) the edge says
// READY=1 once started, a successor MAINPID and READY=1 once it has taken over, and STOPPING=1
// as a stop begins.
//
// Draining (DESIGN.md): the listeners close at once, open connections get drain_timeout_secs. The
// metrics endpoint keeps answering scrapes until the drain is over, but its idle keep-alive
// connections are closed when the drain starts, whatever started it (a signal, a revoke, or
// stop() in-process), so no scraper holds the process open past the drain.

import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { relayPathName, ShardSupervisor } from '@sluice/core';
import { systemdNotify } from '@sluice/splice';
import { acceptQueueMigrationProblem } from './accept-queue-migration.ts';
import { maxConnections, maxWaiting, readDescriptorLimit } from './descriptor-limit.ts';
import type { Logger } from './logger.ts';
import type { Predecessor } from './predecessor.ts';
import type { RuleSource } from './rule-source.ts';
import { type ReadyOutcome, Successor } from './successor.ts';

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
  /** The running edge this one takes over from (started by its SIGUSR2); null: none. */
  readonly predecessor?: Predecessor | null;
}

/** How often a draining old edge hands its growing counters to its successor. */
const HANDED_COUNTERS_INTERVAL_MS = 1_000;

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
  /** The successor being started by SIGUSR2, until it took over or was given up. */
  private successor: Successor | null = null;
  /**
   * Whether this process is the edge systemd knows as its main process: not a successor before
   * it took over, nor an old edge that handed over (only the main one says STOPPING=1).
   */
  private isMain: boolean;

  constructor(options: EdgeRuntimeOptions) {
    this.options = options;
    this.log = options.log;
    this.isMain = (options.predecessor ?? null) === null;
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
    const predecessor = this.options.predecessor ?? null;
    // The old edge's listeners hold every port until it has handed over.
    if (predecessor !== null) supervisor.probePorts = false;
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
    const ready = await source.start({
      supervisor,
      log: this.log,
      shutdown: (code) => this.shutdown(code),
      successor: predecessor !== null,
    });
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
    if (predecessor === null) this.notify('READY=1');
    else this.takeOverFrom(predecessor, supervisor);
  }

  /**
   * A successor: ready to the old edge once every rule is Active beside its own; a rule that is
   * not would be dropped by the hand-over, so this edge stops instead and the old one serves on.
   */
  private takeOverFrom(predecessor: Predecessor, supervisor: ShardSupervisor): void {
    const rules = supervisor.snapshot();
    const failed = rules.filter((rule) => rule.state !== 'active');
    if (failed.length > 0) {
      this.log.error(
        {
          predecessor_pid: predecessor.pid,
          failed: failed.map((rule) => ({ rule: rule.name, state: rule.state, reason: rule.error?.code })),
        },
        'hand-over refused: not every rule is active in the successor; the running edge keeps serving',
      );
      this.shutdown(1);
      return;
    }
    predecessor.onHanded((counters, first) => {
      this.options.source.carry(counters, first);
      if (!first) return;
      supervisor.probePorts = true;
      this.isMain = true;
      this.log.info({ predecessor_pid: predecessor.pid, rules: rules.length }, 'hand-over: took over');
      this.notify(`MAINPID=${process.pid}\nREADY=1`);
    });
    predecessor.ready(rules.length);
  }

  /**
   * SIGUSR2: starts a successor; once it is ready this edge stops accepting, drains and exits 0.
   * A successor that exits or is not ready in time is given up, and this edge serves on.
   */
  async handOver(): Promise<void> {
    await this.started;
    if (this.stopping || !this.supervisor) {
      this.log.warn({}, 'hand-over not started: the edge is stopping');
      return;
    }
    if (!this.isMain) {
      this.log.warn({}, 'hand-over not started: this edge has not taken over yet');
      return;
    }
    if (this.successor !== null) {
      this.log.warn({ successor_pid: this.successor.pid }, 'hand-over not started: one is under way');
      return;
    }
    const successor = new Successor();
    this.successor = successor;
    this.log.info(
      {
        successor_pid: successor.pid,
        command: [successor.command.program, ...successor.command.args].join(' '),
      },
      'hand-over: successor started',
    );
    const outcome = await successor.ready();
    if (!outcome.ready || this.stopping || !successor.running) {
      successor.abandon();
      this.successor = null;
      this.log.error(
        { successor_pid: successor.pid, reason: failedReason(outcome, this.stopping !== null) },
        'hand-over failed: this edge keeps serving',
      );
      return;
    }
    const migration = acceptQueueMigrationProblem();
    if (migration !== null)
      this.log.warn({ problem: migration }, 'hand-over: queued connections may be reset');
    this.isMain = false;
    const counters = this.options.source.handOff();
    successor.send({ type: 'handed', counters: counters?.() ?? null });
    this.log.info(
      { successor_pid: successor.pid, rules: outcome.rules },
      'hand-over: successor ready; draining',
    );
    // The successor answers scrapes from here on: this edge's counters end with its drain.
    const metrics = this.metricsServer;
    this.metricsServer = null;
    metrics?.close();
    metrics?.closeIdleConnections();
    const timer =
      counters === null
        ? null
        : setInterval(
            () => successor.send({ type: 'handed', counters: counters() }),
            HANDED_COUNTERS_INTERVAL_MS,
          );
    await this.stop(() => {
      if (timer !== null) clearInterval(timer);
      // The last counts, read before the drained rules let go of their counter slots.
      if (counters !== null) successor.send({ type: 'handed', counters: counters() });
    });
    if (this.options.ownProcess) process.exit(0);
  }

  /** sd_notify when systemd runs the edge (NOTIFY_SOCKET set); why not, when it cannot. */
  private notify(state: string): void {
    if (!process.env.NOTIFY_SOCKET) return;
    const result = systemdNotify(state);
    if (!result.sent) this.log.error({ state, reason: result.reason }, 'could not notify systemd');
  }

  /** Asks the rule source to reload (SIGHUP); during start-up, once start-up is over. */
  async reload(): Promise<void> {
    await this.started;
    if (this.stopping || !this.supervisor) return;
    await this.options.source.reload();
  }

  /**
   * Stops the rule source, drains every rule, closes the metrics server. `drained` runs once the
   * drain is over, while the counters can still be read (the first stop's only).
   */
  stop(drained?: () => void): Promise<void> {
    this.stopping ??= this.drainAndStop(drained);
    return this.stopping;
  }

  private async drainAndStop(drained?: () => void): Promise<void> {
    this.options.source.stop();
    const supervisor = this.supervisor;
    if (!supervisor) return;
    if (this.isMain) {
      this.notify('STOPPING=1');
      this.successor?.abandon();
    }
    this.log.info({ drain_timeout_secs: supervisor.drainTimeoutMs / 1000 }, 'draining');
    this.metricsServer?.closeIdleConnections();
    await supervisor.stop(drained);
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
    process.on('SIGUSR2', () => void this.handOver());
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

/** Why a successor that was ready is given up all the same, or why it never was. */
function failedReason(outcome: ReadyOutcome, stopping: boolean): string {
  if (!outcome.ready) return outcome.reason;
  return stopping ? 'this edge is stopping' : 'the successor went away after it said it was ready';
}
