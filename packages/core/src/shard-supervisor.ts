// The supervisor: owns the shards (worker threads), the counters buffer and the rule state
// machine. It never touches payload bytes. Every change to the rule set, and every rebind after
// a shard restart, runs through one queue, so a shard never sees two changes interleaved.
//
// Shards are plain worker_threads Workers, not piscina tasks: a shard is a long-lived actor with
// an identity (its index owns counter rows and listeners), the supervisor must see its exit and
// restart that same index, and it must terminate it on shutdown. piscina's strengths (queueing
// finite tasks, sizing a pool) do not apply; finite CPU work elsewhere uses piscina.

import { Worker } from 'node:worker_threads';
import { formatHost, type OwnerSpec, type RuleSpec, type TargetSpec } from '@sluice/config';
import { NO_LIMITS, QosTable } from '@sluice/qos';
import { FIELD } from './counters-layout.ts';
import { Counters } from './counters.ts';
import { type CoreErrorData, coreError } from './errors.ts';
import { probeListen } from './port-probe.ts';
import { listenLabel } from './rule-runtime.ts';
import { ManagedRule, type RuleState } from './rule-state.ts';
import type { FromShard, ShardInit, SpliceStatus, ToShard } from './shard-messages.ts';
import { SlotAllocator } from './slot-allocator.ts';
import { DEFAULT_SLOT_CAPACITY } from './counters-layout.ts';

export type LogFn = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

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
}

export interface RuleSnapshot {
  readonly name: string;
  readonly owner: string;
  readonly protocol: string;
  readonly listen: string;
  readonly state: RuleState;
  readonly error: CoreErrorData | null;
  readonly slot: number | null;
  /** The targets as written (host:port, or host:lo-hi), in order: the `target` label. */
  readonly targets: readonly string[];
}

export interface ApplyResult {
  readonly added: string[];
  readonly removed: string[];
  readonly changed: string[];
  readonly unchanged: string[];
  readonly failed: { name: string; error: CoreErrorData }[];
}

type Request = ToShard extends infer T ? (T extends { id: number } ? Omit<T, 'id'> : never) : never;

interface ShardHandle {
  readonly index: number;
  worker: Worker | null;
  ready: boolean;
  startedAt: number;
  restartDelayMs: number;
  readonly pending: Map<number, (error: CoreErrorData | null) => void>;
}

const SHARD_ENTRY = new URL('./shard-entry.ts', import.meta.url);
/**
 * Every accepted connection leaves a few KiB of garbage behind (the net.Socket objects the
 * splice path hands off, the stream state of closed connections). With V8's default young
 * generation a shard keeps tens of MiB of it resident between scavenges, which showed up as
 * ~4.3 KiB of RSS per idle connection at 4000 connections; 4 MiB brings that to ~2.8 KiB
 * with no measurable change in single-flow throughput or small-message rate.
 */
const SHARD_YOUNG_GENERATION_MB = 4;
const DRAIN_POLL_MS = 50;
const RESTART_DELAY_MIN_MS = 100;
const RESTART_DELAY_MAX_MS = 5_000;
/** A shard that stayed up this long starts its next restart from the minimum delay again. */
const STABLE_AFTER_MS = 10_000;

export class ShardSupervisor {
  readonly counters: Counters;
  /** Caps and their live state per rule slot and per owner, shared with every shard. */
  readonly qos: QosTable;
  restarts = 0;
  /** How long a retired rule's connections may go on; a reload may change it. */
  drainTimeoutMs: number;
  /** What the shards reported at start: whether they relay through splice(2), and why. */
  splice: SpliceStatus = { enabled: false, reason: 'no shard started yet' };
  private readonly options: SupervisorOptions;
  private readonly shards: ShardHandle[];
  private readonly slots: SlotAllocator;
  private readonly rules = new Map<string, ManagedRule>();
  /** Owner name -> QoS owner slot. Owners are few and keep their slot for the process's life. */
  private readonly ownerSlots = new Map<string, number>();
  private readonly draining = new Map<ManagedRule, Promise<void>>();
  private queue: Promise<unknown> = Promise.resolve();
  private nextRequestId = 1;
  private stopping = false;

  private constructor(options: SupervisorOptions) {
    this.options = options;
    this.drainTimeoutMs = options.drainTimeoutMs;
    const capacity = options.slotCapacity ?? DEFAULT_SLOT_CAPACITY;
    this.counters = new Counters(Counters.allocate(options.shards, capacity));
    this.qos = new QosTable(QosTable.allocate(capacity, options.ownerCapacity, options.shards));
    this.slots = new SlotAllocator(capacity);
    this.shards = Array.from({ length: options.shards }, (_, index) => ({
      index,
      worker: null,
      ready: false,
      startedAt: 0,
      restartDelayMs: RESTART_DELAY_MIN_MS,
      pending: new Map(),
    }));
  }

  static async start(options: SupervisorOptions): Promise<ShardSupervisor> {
    const supervisor = new ShardSupervisor(options);
    await Promise.all(supervisor.shards.map((shard) => supervisor.spawn(shard)));
    return supervisor;
  }

  get shardCount(): number {
    return this.shards.length;
  }

  get shardsRunning(): number {
    return this.shards.filter((shard) => shard.ready).length;
  }

  /**
   * Makes the running rule set equal `specs`, with `owners`' caps; see rule-state.ts for what
   * each rule goes through. Caps change in place: running connections keep going under the new
   * bandwidth caps, and a lower connection cap only refuses new connections.
   */
  apply(specs: readonly RuleSpec[], owners: Readonly<Record<string, OwnerSpec>> = {}): Promise<ApplyResult> {
    return this.serialize(async () => {
      this.configureOwners(specs, owners);
      return this.applyNow(specs);
    });
  }

  /** Connections open now against an owner's cap, over every shard and rule. */
  ownerConnections(owner: string): number {
    const slot = this.ownerSlots.get(owner);
    return slot === undefined ? 0 : this.qos.active(this.qos.owner(slot));
  }

  snapshot(): RuleSnapshot[] {
    const all = [...this.rules.values(), ...this.draining.keys()];
    return all.map((rule) => ({
      name: rule.spec.name,
      owner: rule.spec.owner,
      protocol: rule.spec.protocol,
      listen: listenLabel(rule.spec),
      state: rule.state,
      error: rule.error,
      slot: rule.slot,
      targets: rule.spec.targets.map(targetLabel),
    }));
  }

  /** Test hook: the shard dies of an uncaught exception (only when testHooks is on). */
  crashShard(index: number): boolean {
    const shard = this.shards[index];
    if (!this.options.testHooks || !shard?.worker || !shard.ready) return false;
    shard.worker.postMessage({ type: 'crash' } satisfies ToShard);
    return true;
  }

  /** Stops accepting everywhere at once, lets connections finish up to the drain timeout, ends the shards. */
  stop(): Promise<void> {
    return this.serialize(async () => {
      const active = [...this.rules.values()].filter((rule) => rule.state === 'active');
      this.rules.clear();
      await Promise.all(active.map((rule) => this.retire(rule)));
      await Promise.all(this.draining.values());
      this.stopping = true;
      await Promise.all(this.shards.map((shard) => shard.worker?.terminate()));
    });
  }

  /** Ends the shards without draining: the second SIGINT. */
  async kill(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.shards.map((shard) => shard.worker?.terminate()));
  }

  private configureOwners(specs: readonly RuleSpec[], owners: Readonly<Record<string, OwnerSpec>>): void {
    const names = new Set([...this.ownerSlots.keys(), ...Object.keys(owners), ...specs.map((s) => s.owner)]);
    for (const name of names) {
      const slot = this.ownerSlot(name);
      if (slot !== null) this.qos.configure(this.qos.owner(slot), owners[name]?.limits ?? NO_LIMITS);
    }
  }

  /** The owner's QoS slot, taken on first use; null when the table is full. */
  private ownerSlot(owner: string): number | null {
    let slot = this.ownerSlots.get(owner);
    if (slot === undefined) {
      if (this.ownerSlots.size >= this.qos.ownerCapacity) return null;
      slot = this.ownerSlots.size;
      this.ownerSlots.set(owner, slot);
    }
    return slot;
  }

  private serialize<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async applyNow(specs: readonly RuleSpec[]): Promise<ApplyResult> {
    const result: ApplyResult = { added: [], removed: [], changed: [], unchanged: [], failed: [] };
    const wanted = new Map(specs.map((spec) => [spec.name, spec]));
    const toAdd: RuleSpec[] = [];

    for (const [name, rule] of [...this.rules]) {
      const spec = wanted.get(name);
      if (!spec) {
        this.rules.delete(name);
        if (rule.state === 'active') await this.retire(rule);
        result.removed.push(name);
      } else if (rule.state === 'failed' || needsRebind(rule.spec, spec) || !this.ownerSlots.has(spec.owner)) {
        // A failed rule is retried; a new listen address means new listeners; an owner the
        // QoS table had no room for fails the rule with that reason.
        this.rules.delete(name);
        if (rule.state === 'active') await this.retire(rule);
        toAdd.push(spec);
        result.changed.push(name);
      } else if (sameSpec(rule.spec, spec)) {
        result.unchanged.push(name);
      } else {
        rule.spec = spec;
        // Connections already open keep counting against the owner they were admitted under.
        const ownerSlot = this.ownerSlots.get(spec.owner)!;
        this.qos.configure(this.qos.rule(rule.slot!), spec.limits);
        await this.broadcast({ type: 'update', rule: spec, slot: rule.slot!, ownerSlot });
        result.changed.push(name);
        this.options.log('info', 'rule updated', { rule: name });
      }
    }
    for (const spec of specs) if (!this.rules.has(spec.name) && !toAdd.includes(spec)) {
      toAdd.push(spec);
      result.added.push(spec.name);
    }
    for (const spec of toAdd) {
      const rule = await this.activate(spec);
      if (rule.state === 'failed') result.failed.push({ name: spec.name, error: rule.error! });
    }
    return result;
  }

  private async activate(spec: RuleSpec): Promise<ManagedRule> {
    const rule = new ManagedRule(spec);
    this.rules.set(spec.name, rule);
    const slot = this.slots.take();
    if (slot === null) {
      return this.fail(rule, coreError('rule_capacity_exceeded', { capacity: this.counters.slotCapacity }));
    }
    this.counters.clearSlot(slot);
    rule.slot = slot;
    const ownerSlot = this.ownerSlot(spec.owner);
    if (ownerSlot === null) return this.fail(rule, this.ownerCapacityError());
    this.qos.reset(this.qos.rule(slot));
    this.qos.configure(this.qos.rule(slot), spec.limits);
    const label = listenLabel(spec);
    const probe = await probeListen(spec.listen, spec.protocol);
    if (probe) return this.fail(rule, probe);
    const errors = await this.broadcast({ type: 'bind', rule: spec, slot, ownerSlot });
    const error = errors.find((e) => e !== null);
    if (error) {
      await this.broadcast({ type: 'release', slot });
      return this.fail(rule, error);
    }
    rule.to('active');
    this.options.log('info', 'rule active', { rule: spec.name, listen: label, shards: this.shardsRunning });
    return rule;
  }

  private ownerCapacityError(): CoreErrorData {
    return coreError('owner_capacity_exceeded', { capacity: this.qos.ownerCapacity });
  }

  private fail(rule: ManagedRule, error: CoreErrorData): ManagedRule {
    if (rule.slot !== null) this.slots.give(rule.slot);
    rule.slot = null;
    rule.to('failed', error);
    this.options.log('warn', 'rule failed', { rule: rule.spec.name, reason: error.code, detail: error.message });
    return rule;
  }

  /** Closes the rule's listeners everywhere now; its connections drain in the background. */
  private async retire(rule: ManagedRule): Promise<void> {
    rule.to('draining');
    await this.broadcast({ type: 'unbind', slot: rule.slot! });
    this.options.log('info', 'rule draining', { rule: rule.spec.name, connections: this.activeConnections(rule) });
    const done = this.drain(rule).then(() => {
      this.draining.delete(rule);
    });
    this.draining.set(rule, done);
  }

  private async drain(rule: ManagedRule): Promise<void> {
    const slot = rule.slot!;
    const deadline = Date.now() + this.drainTimeoutMs;
    while (this.activeConnections(rule) > 0 && Date.now() < deadline) await delay(DRAIN_POLL_MS);
    const left = this.activeConnections(rule);
    await this.broadcast({ type: 'release', slot });
    // Closed connections report their end asynchronously; the slot is reused only once they did.
    const settle = Date.now() + 2_000;
    while (this.activeConnections(rule) > 0 && Date.now() < settle) await delay(DRAIN_POLL_MS);
    if (this.activeConnections(rule) === 0) this.slots.give(slot);
    else this.options.log('error', 'rule slot not reusable: connections did not report closing', { rule: rule.spec.name });
    rule.to('removed');
    this.options.log('info', 'rule removed', { rule: rule.spec.name, closed_at_drain_timeout: left });
  }

  private activeConnections(rule: ManagedRule): number {
    return rule.slot === null ? 0 : Number(this.counters.sum(rule.slot, FIELD.ACTIVE));
  }

  private broadcast(request: Request): Promise<(CoreErrorData | null)[]> {
    return Promise.all(this.shards.filter((shard) => shard.ready).map((shard) => this.request(shard, request)));
  }

  private request(shard: ShardHandle, request: Request): Promise<CoreErrorData | null> {
    const worker = shard.worker!;
    const id = this.nextRequestId++;
    return new Promise((resolve) => {
      const timeoutMs = this.options.requestTimeoutMs ?? 5_000;
      const timer = setTimeout(() => {
        shard.pending.delete(id);
        resolve(coreError('shard_unavailable', { shard: shard.index, ms: timeoutMs }));
      }, timeoutMs);
      shard.pending.set(id, (error) => {
        clearTimeout(timer);
        resolve(error);
      });
      worker.postMessage({ ...request, id } as ToShard);
    });
  }

  private spawn(shard: ShardHandle): Promise<void> {
    const init: ShardInit = {
      shard: shard.index,
      counters: this.counters.words.buffer as SharedArrayBuffer,
      qos: this.qos.buffer,
      testHooks: this.options.testHooks ?? false,
    };
    const worker = new Worker(SHARD_ENTRY, {
      workerData: init,
      name: `sluice-shard-${shard.index}`,
      resourceLimits: { maxYoungGenerationSizeMb: SHARD_YOUNG_GENERATION_MB },
    });
    shard.worker = worker;
    shard.startedAt = Date.now();
    let lastError: string | null = null;
    return new Promise((resolve) => {
      worker.on('message', (message: FromShard) => {
        switch (message.type) {
          case 'ready':
            shard.ready = true;
            this.splice = message.splice;
            this.options.log('info', 'shard started', {
              shard: shard.index,
              relay: message.splice.enabled ? 'splice' : 'js',
              splice: message.splice.reason,
            });
            resolve();
            return;
          case 'reply':
            shard.pending.get(message.id)?.(message.error);
            shard.pending.delete(message.id);
            return;
          case 'log':
            this.options.log(message.level, message.msg, { shard: shard.index, ...message.fields });
            return;
        }
      });
      worker.on('error', (err) => {
        lastError = err.stack ?? String(err);
      });
      worker.on('exit', (code) => {
        shard.ready = false;
        shard.worker = null;
        // Requests in flight die with the shard; its restart rebinds every active rule.
        for (const settle of shard.pending.values()) settle(null);
        shard.pending.clear();
        resolve();
        if (this.stopping) return;
        this.onShardExit(shard, code, lastError);
      });
    });
  }

  private onShardExit(shard: ShardHandle, code: number, error: string | null): void {
    this.restarts++;
    // The dead shard's connections no longer hold places under their rule's and owner's caps:
    // rules from its counter rows, owners from what the QoS table counted per shard (a rule may
    // have changed owner since its connections were admitted).
    for (const rule of [...this.rules.values(), ...this.draining.keys()]) {
      if (rule.slot === null) continue;
      const row = this.counters.row(rule.slot, shard.index);
      const open = Number(this.counters.read(row, FIELD.ACTIVE) + this.counters.read(row, FIELD.ACTIVE_FLOWS));
      this.qos.forget(this.qos.rule(rule.slot), open);
    }
    this.qos.forgetShard(shard.index);
    this.counters.clearShardGauges(shard.index);
    if (Date.now() - shard.startedAt > STABLE_AFTER_MS) shard.restartDelayMs = RESTART_DELAY_MIN_MS;
    const delayMs = shard.restartDelayMs;
    shard.restartDelayMs = Math.min(delayMs * 2, RESTART_DELAY_MAX_MS);
    this.options.log('error', 'shard exited', { shard: shard.index, code, error, restart_in_ms: delayMs });
    setTimeout(() => {
      if (this.stopping) return;
      void this.spawn(shard).then(() => this.serialize(() => this.rebind(shard)));
    }, delayMs);
  }

  private async rebind(shard: ShardHandle): Promise<void> {
    if (!shard.ready) return;
    let rebound = 0;
    for (const rule of this.rules.values()) {
      if (rule.state !== 'active') continue;
      const ownerSlot = this.ownerSlots.get(rule.spec.owner)!;
      const error = await this.request(shard, { type: 'bind', rule: rule.spec, slot: rule.slot!, ownerSlot });
      if (!error) rebound++;
      if (error) {
        this.options.log('error', 'rule could not be rebound on a restarted shard', {
          rule: rule.spec.name,
          shard: shard.index,
          reason: error.code,
          detail: error.message,
        });
      }
    }    this.options.log('info', 'shard rules rebound', { shard: shard.index, rules: rebound });
  }

}

function targetLabel(target: TargetSpec): string {
  const host = formatHost(target.host);
  if (target.portLo === null) return host;
  return target.portHi === null || target.portHi === target.portLo ? `${host}:${target.portLo}` : `${host}:${target.portLo}-${target.portHi}`;
}

function needsRebind(a: RuleSpec, b: RuleSpec): boolean {
  return a.protocol !== b.protocol || JSON.stringify(a.listen) !== JSON.stringify(b.listen);
}

function sameSpec(a: RuleSpec, b: RuleSpec): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
