// The supervisor: owns the shared memory (counters and QoS table), the shard pool
// (shard-pool.ts: spawn, restart, messaging) and the rule reconciler (rule-reconciler.ts: the
// rule set, rule states, draining), and wires them: a shard's death frees what its connections
// held, and its restart rebinds the active rules. It never touches payload bytes.

import type { OwnerSpec, RuleSpec } from '@sluice/config';
import { Counters, DEFAULT_SLOT_CAPACITY } from '@sluice/counters';
import { QosTable } from '@sluice/qos';
import type { SpliceStatus } from '@sluice/splice';
import { ConnectionBudget } from './connection-budget.ts';
import { logConnectionLimit } from './connection-limit-log.ts';
import type { CoreErrorData } from './errors.ts';
import type { LogFn } from './log-fn.ts';
import { PipeWaitLog } from './pipe-wait-log.ts';
import { QuotaWatch } from './quota-watch.ts';
import { type ApplyResult, RuleReconciler, type RuleSlot, type RuleSnapshot } from './rule-reconciler.ts';
import type { RuleState } from './rule-record.ts';
import { ShardPool } from './shard-pool.ts';

export interface SupervisorOptions {
  readonly shards: number;
  readonly drainTimeoutMs: number;
  readonly log: LogFn;
  readonly testHooks?: boolean;
  readonly slotCapacity?: number;
  /** How many distinct owners the QoS table holds (default 1024). */
  readonly ownerCapacity?: number;
  /** How long a shard may take to answer one request. */
  readonly requestTimeoutMs?: number;
  /** The most TCP connections the edge holds at once (0 or absent: no limit). */
  readonly maxConnections?: number;
  /** node:net paths: the most connections the edge holds unread while they wait for a place. */
  readonly maxWaiting?: number;
}

export class ShardSupervisor {
  readonly counters: Counters;
  /** Caps and their live state per rule slot and per owner, shared with every shard. */
  readonly qos: QosTable;
  /** The edge's connection budget: max_connections and the connections held now. */
  private readonly budget: ConnectionBudget;
  private readonly pool: ShardPool;
  private readonly reconciler: RuleReconciler;
  private readonly pipeWaits: PipeWaitLog;
  private readonly quotaWatch: QuotaWatch;
  /** Stops the once-per-interval log of the connection limit being met. */
  private readonly stopLimitLog: () => void;

  private constructor(
    counters: Counters,
    qos: QosTable,
    budget: ConnectionBudget,
    pool: ShardPool,
    reconciler: RuleReconciler,
    log: LogFn,
  ) {
    this.counters = counters;
    this.qos = qos;
    this.budget = budget;
    this.pool = pool;
    this.reconciler = reconciler;
    this.pipeWaits = new PipeWaitLog(counters, () => reconciler.ruleSlots(), log);
    this.pipeWaits.start();
    this.quotaWatch = new QuotaWatch(qos, () => reconciler.owners(), log);
    this.quotaWatch.start();
    this.stopLimitLog = logConnectionLimit(budget, log);
  }

  static async start(options: SupervisorOptions): Promise<ShardSupervisor> {
    const capacity = options.slotCapacity ?? DEFAULT_SLOT_CAPACITY;
    const counters = new Counters(Counters.allocate(options.shards, capacity));
    const qos = new QosTable(QosTable.allocate(capacity, options.ownerCapacity, options.shards));
    const budget = new ConnectionBudget(ConnectionBudget.allocate(options.shards));
    budget.limit = options.maxConnections ?? 0;
    budget.waitingLimit = waitingPerShard(options.maxWaiting ?? 0, options.shards);
    // The pool calls back only once a shard has died, by which time the reconciler exists.
    let reconciler: RuleReconciler | undefined;
    const pool = await ShardPool.start({
      shards: options.shards,
      counters: counters.words.buffer as SharedArrayBuffer,
      qos: qos.buffer,
      budget: budget.words.buffer as SharedArrayBuffer,
      log: options.log,
      ...(options.testHooks === undefined ? {} : { testHooks: options.testHooks }),
      ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
      onExit: (shard) => {
        reconciler?.shardExited(shard);
        budget.forgetShard(shard);
      },
      onRestart: (shard) => void reconciler?.rebind(shard),
    });
    reconciler = new RuleReconciler(pool, counters, qos, {
      log: options.log,
      drainTimeoutMs: options.drainTimeoutMs,
    });
    return new ShardSupervisor(counters, qos, budget, pool, reconciler, options.log);
  }

  /** Shards that died and were restarted. */
  get restarts(): number {
    return this.pool.restarts;
  }

  /** What the shards reported at start: whether they relay through splice(2), and why. */
  get splice(): SpliceStatus {
    return this.pool.splice;
  }

  /** How long a retired rule's connections may go on; a reload may change it. */
  get drainTimeoutMs(): number {
    return this.reconciler.drainTimeoutMs;
  }

  set drainTimeoutMs(ms: number) {
    this.reconciler.drainTimeoutMs = ms;
  }

  /** Whether new rules' ports are probed for a foreign holder (off during a hand-over: port-probe.ts). */
  get probePorts(): boolean {
    return this.reconciler.probePorts;
  }

  set probePorts(on: boolean) {
    this.reconciler.probePorts = on;
  }

  /** The most TCP connections the edge holds at once (0: no limit); a change applies to the next accept. */
  get maxConnections(): number {
    return this.budget.limit;
  }

  set maxConnections(connections: number) {
    this.budget.limit = connections;
  }

  /** node:net paths: the most connections the edge holds waiting for a place; a change applies to the next. */
  set maxWaiting(connections: number) {
    this.budget.waitingLimit = waitingPerShard(connections, this.pool.count);
  }

  /** TCP connections the edge holds now, over every shard and rule. */
  get openConnections(): number {
    return this.budget.open;
  }

  get shardCount(): number {
    return this.pool.count;
  }

  get shardsRunning(): number {
    return this.pool.running;
  }

  /** Makes the running rule set equal `specs`, with `owners`' caps (rule-reconciler.ts). */
  apply(specs: readonly RuleSpec[], owners: Readonly<Record<string, OwnerSpec>> = {}): Promise<ApplyResult> {
    return this.reconciler.apply(specs, owners);
  }

  /** Changes only the rules named: `upserts` added or changed, `removed` (names) retired. */
  change(
    upserts: readonly RuleSpec[],
    removed: readonly string[],
    owners: Readonly<Record<string, OwnerSpec>> = {},
  ): Promise<ApplyResult> {
    return this.reconciler.change(upserts, removed, owners);
  }

  /** The state of the rule `name` the edge holds (not a draining one), without a snapshot of all. */
  stateOf(name: string): { readonly state: RuleState; readonly error: CoreErrorData | null } | undefined {
    return this.reconciler.stateOf(name);
  }

  /**
   * Sets each owner's monthly quota budget (bytes left; absent: no quota), live: the relay paths
   * take from it from now on. Answers the owners the QoS table had no room for.
   */
  setQuotas(left: ReadonlyMap<string, bigint>): string[] {
    const full = this.reconciler.setQuotas(left);
    this.quotaWatch.check();
    return full;
  }

  /** Connections open now against an owner's cap, over every shard and rule. */
  ownerConnections(owner: string): number {
    return this.reconciler.ownerConnections(owner);
  }

  snapshot(): RuleSnapshot[] {
    return this.reconciler.snapshot();
  }

  /** Each rule, held or draining, with its counters slot (nothing formatted, unlike snapshot()). */
  ruleSlots(): RuleSlot[] {
    return this.reconciler.ruleSlots();
  }

  /** Test hook: the shard dies of an uncaught exception (only when testHooks is on). */
  crashShard(index: number): boolean {
    return this.pool.crash(index);
  }

  /**
   * Stops accepting everywhere at once, lets connections finish up to the drain timeout, ends the
   * shards. `drained` runs once the drain is over, while the rules' counters can still be read.
   */
  async stop(drained?: () => void): Promise<void> {
    this.pipeWaits.stop();
    this.stopLimitLog();
    this.quotaWatch.stop();
    await this.reconciler.retireAll(drained);
    await this.pool.stop();
  }

  /** Ends the shards without draining: the second SIGINT. */
  kill(): Promise<void> {
    this.pipeWaits.stop();
    this.stopLimitLog();
    this.quotaWatch.stop();
    return this.pool.stop();
  }
}

/** Each shard holds its own line of waiting connections: the edge's allowance split evenly. */
function waitingPerShard(connections: number, shards: number): number {
  return Math.floor(connections / shards);
}
