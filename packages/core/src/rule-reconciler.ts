// Makes the rules the shards run equal the rule set it is given (apply), or changes just the
// rules it is told of (change: the cost of a push is that of the rules it names, whatever the
// edge holds). Each rule has a RuleRecord (rule-record.ts): added rules get a counter slot, are
// probed for a foreign holder of their port and bound on every shard: Active once all shards
// bound them, Failed(reason) otherwise, and then released everywhere. Added rules are probed a
// few at a time and bound in batches (one message per shard per batch), so a replay of
// thousands is not thousands of round trips. Removed rules (and rules whose listen changed)
// stop accepting at once and drain. Every change, and every rebind after a shard restart, runs
// through one queue, so a shard never sees two changes interleaved.

import type { OwnerSpec, RuleSpec } from '@sluice/config';
import { formatListen, formatTarget } from '@sluice/config/address';
import { type Counters, FIELD } from '@sluice/counters';
import { NO_LIMITS, type QosTable, setQuota } from '@sluice/qos';
import { CORE_ERRORS, type CoreErrorData } from './errors.ts';
import type { LogFn } from './log-fn.ts';
import { probeListen } from './port-probe.ts';
import { RuleRecord, type RuleState } from './rule-record.ts';
import type { ShardBinding } from './shard-messages.ts';
import type { ShardPool } from './shard-pool.ts';
import { SlotAllocator } from './slot-allocator.ts';

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

/** A rule's counters slot: what readers of the counters need every few seconds, no more. */
export interface RuleSlot {
  readonly name: string;
  readonly protocol: string;
  readonly slot: number;
}

export interface ApplyResult {
  readonly added: string[];
  readonly removed: string[];
  readonly changed: string[];
  readonly unchanged: string[];
  readonly failed: { name: string; error: CoreErrorData }[];
}

/** What the reconciler asks of the shards. */
export type RuleShards = Pick<ShardPool, 'broadcast' | 'bindEverywhere' | 'bindOn' | 'isRunning' | 'running'>;

export interface RuleReconcilerOptions {
  readonly log: LogFn;
  readonly drainTimeoutMs: number;
}

const DRAIN_POLL_MS = 50;
/** Port probes run at once while rules are added (each binds and closes one socket). */
const PROBE_CONCURRENCY = 64;
/** Rules per bind message: a shard answers a batch within its request timeout. */
const BIND_BATCH = 500;
/** After the drain, how long closed connections have to report their end before the slot is given up for good. */
const SETTLE_MS = 2_000;

export class RuleReconciler {
  /** How long a retired rule's connections may go on; a reload may change it. */
  drainTimeoutMs: number;
  /**
   * Off while a successor edge binds beside its predecessor (a hand-over): the predecessor's
   * own listeners hold every port, so each probe would fail.
   */
  probePorts = true;
  private readonly shards: RuleShards;
  private readonly counters: Counters;
  private readonly qos: QosTable;
  private readonly log: LogFn;
  private readonly slots: SlotAllocator;
  private readonly rules = new Map<string, RuleRecord>();
  /** Owner name -> QoS owner slot. Owners are few and keep their slot for the process's life. */
  private readonly ownerSlots = new Map<string, number>();
  private readonly draining = new Map<RuleRecord, Promise<void>>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(shards: RuleShards, counters: Counters, qos: QosTable, options: RuleReconcilerOptions) {
    this.shards = shards;
    this.counters = counters;
    this.qos = qos;
    this.log = options.log;
    this.drainTimeoutMs = options.drainTimeoutMs;
    this.slots = new SlotAllocator(counters.slotCapacity);
  }

  /**
   * Makes the running rule set equal `specs`, with `owners`' caps. Caps change in place: running
   * connections keep going under the new bandwidth caps, and a lower connection cap only
   * refuses new connections.
   */
  apply(specs: readonly RuleSpec[], owners: Readonly<Record<string, OwnerSpec>> = {}): Promise<ApplyResult> {
    return this.serialize(async () => {
      this.configureOwners(specs, owners);
      const wanted = new Set(specs.map((spec) => spec.name));
      const gone = [...this.rules.keys()].filter((name) => !wanted.has(name));
      return this.changeNow(specs, gone);
    });
  }

  /**
   * Adds or changes the rules `upserts` and removes the rules named in `removed`; every other
   * rule is left as it is (not compared, not messaged). `owners` are the caps of every owner.
   */
  change(
    upserts: readonly RuleSpec[],
    removed: readonly string[],
    owners: Readonly<Record<string, OwnerSpec>> = {},
  ): Promise<ApplyResult> {
    return this.serialize(async () => {
      this.configureOwners(upserts, owners);
      return this.changeNow(upserts, removed);
    });
  }

  /** The state of the rule `name` holds now (draining ones are not held), and why it failed. */
  stateOf(name: string): { readonly state: RuleState; readonly error: CoreErrorData | null } | undefined {
    return this.rules.get(name);
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
      listen: formatListen(rule.spec.listen),
      state: rule.state,
      error: rule.error,
      slot: rule.slot,
      targets: rule.spec.targets.map(formatTarget),
    }));
  }

  /**
   * Each rule, held or draining, that has a counters slot. Unlike snapshot() nothing is
   * formatted: at 10,000 rules the readers of the counters call this every second.
   */
  ruleSlots(): RuleSlot[] {
    const found: RuleSlot[] = [];
    const add = (rule: RuleRecord) => {
      if (rule.slot !== null)
        found.push({ name: rule.spec.name, protocol: rule.spec.protocol, slot: rule.slot });
    };
    for (const rule of this.rules.values()) add(rule);
    for (const rule of this.draining.keys()) add(rule);
    return found;
  }

  /** Stops accepting everywhere at once and lets connections finish up to the drain timeout. */
  retireAll(drained?: () => void): Promise<void> {
    return this.serialize(async () => {
      const active = [...this.rules.values()].filter((rule) => rule.state === 'active');
      this.rules.clear();
      const barrier = drained === undefined ? undefined : drainBarrier(active.length, drained);
      await Promise.all(active.map((rule) => this.retire(rule, barrier)));
      await Promise.all(this.draining.values());
    });
  }

  /**
   * A shard died with its connections: they no longer hold places under their rule's and
   * owner's caps (rules from its counter rows, owners from what the QoS table counted per
   * shard, since a rule may have changed owner since its connections were admitted), and its
   * gauges no longer count them.
   */
  shardExited(shard: number): void {
    for (const rule of [...this.rules.values(), ...this.draining.keys()]) {
      if (rule.slot === null) continue;
      const row = this.counters.row(rule.slot, shard);
      const open = Number(
        this.counters.read(row, FIELD.ACTIVE) + this.counters.read(row, FIELD.ACTIVE_FLOWS),
      );
      this.qos.forget(this.qos.rule(rule.slot), open);
    }
    this.qos.forgetShard(shard);
    this.counters.clearShardGauges(shard);
  }

  /** A restarted shard binds every active rule again. */
  rebind(shard: number): Promise<void> {
    return this.serialize(async () => {
      if (!this.shards.isRunning(shard)) return;
      let rebound = 0;
      const active = [...this.rules.values()].filter((rule) => rule.state === 'active');
      for (let at = 0; at < active.length; at += BIND_BATCH) {
        const batch = active.slice(at, at + BIND_BATCH);
        const errors = await this.shards.bindOn(
          shard,
          batch.map((rule) => this.bindingOf(rule)),
        );
        batch.forEach((rule, i) => {
          const error = errors[i] ?? null;
          if (!error) {
            rebound++;
            return;
          }
          this.log('error', 'rule could not be rebound on a restarted shard', {
            rule: rule.spec.name,
            shard,
            reason: error.code,
            detail: error.message,
          });
        });
      }
      this.log('info', 'shard rules rebound', { shard, rules: rebound });
    });
  }

  private configureOwners(specs: readonly RuleSpec[], owners: Readonly<Record<string, OwnerSpec>>): void {
    const names = new Set([...this.ownerSlots.keys(), ...Object.keys(owners), ...specs.map((s) => s.owner)]);
    for (const name of names) {
      const slot = this.ownerSlot(name);
      if (slot !== null) this.qos.configure(this.qos.owner(slot), owners[name]?.limits ?? NO_LIMITS);
    }
  }

  /**
   * Sets each owner's monthly quota budget on this edge: bytes left, from `left`; an owner not
   * in it has no quota. Answers the owners that could not get a QoS slot (the table is full).
   */
  setQuotas(left: ReadonlyMap<string, bigint>): string[] {
    const full: string[] = [];
    for (const name of left.keys()) if (this.ownerSlot(name) === null) full.push(name);
    for (const [name, slot] of this.ownerSlots)
      setQuota(this.qos.words, this.qos.owner(slot), left.get(name) ?? null);
    return full;
  }

  /** Owner name -> QoS owner slot. */
  owners(): ReadonlyMap<string, number> {
    return this.ownerSlots;
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

  private async changeNow(upserts: readonly RuleSpec[], removed: readonly string[]): Promise<ApplyResult> {
    const result: ApplyResult = { added: [], removed: [], changed: [], unchanged: [], failed: [] };
    const toAdd: RuleSpec[] = [];

    for (const name of removed) {
      const rule = this.rules.get(name);
      if (rule === undefined) continue;
      this.rules.delete(name);
      if (rule.state === 'active') await this.retire(rule);
      result.removed.push(name);
    }
    for (const spec of upserts) {
      const rule = this.rules.get(spec.name);
      if (rule === undefined) {
        toAdd.push(spec);
        result.added.push(spec.name);
      } else if (
        rule.state === 'failed' ||
        needsRebind(rule.spec, spec) ||
        !this.ownerSlots.has(spec.owner)
      ) {
        // A failed rule is retried; a new listen address means new listeners; an owner the
        // QoS table had no room for fails the rule with that reason.
        this.rules.delete(spec.name);
        if (rule.state === 'active') await this.retire(rule);
        toAdd.push(spec);
        result.changed.push(spec.name);
      } else if (sameSpec(rule.spec, spec)) {
        result.unchanged.push(spec.name);
      } else {
        rule.spec = spec;
        // Connections already open keep counting against the owner they were admitted under.
        const ownerSlot = this.ownerSlots.get(spec.owner)!;
        this.qos.configure(this.qos.rule(rule.slot!), spec.limits);
        await this.shards.broadcast({ type: 'update', rule: spec, slot: rule.slot!, ownerSlot });
        result.changed.push(spec.name);
        this.log('info', 'rule updated', { rule: spec.name });
      }
    }
    for (const rule of await this.activate(toAdd)) {
      if (rule.state === 'failed') result.failed.push({ name: rule.spec.name, error: rule.error! });
    }
    return result;
  }

  /**
   * Adds the rules `specs`: slots, then per batch the port probes (a few at a time) and one bind
   * message per shard. The next batch is probed while the shards bind the last one.
   */
  private async activate(specs: readonly RuleSpec[]): Promise<RuleRecord[]> {
    const records = specs.map((spec) => this.prepare(spec));
    const ready = records.filter((rule) => rule.state !== 'failed');
    let binding: Promise<void> = Promise.resolve();
    for (let at = 0; at < ready.length; at += BIND_BATCH) {
      const batch = ready.slice(at, at + BIND_BATCH);
      await this.probe(batch);
      await binding;
      binding = this.bind(batch.filter((rule) => rule.state !== 'failed'));
    }
    await binding;
    // One line for the whole change: a replay of thousands of rules would otherwise write
    // thousands of synchronous lines (each failure has its own `rule failed` line).
    const active = records.filter((rule) => rule.state === 'active').length;
    if (active > 0) {
      this.log('info', 'rules active', {
        rules: active,
        failed: records.length - active,
        shards: this.shards.running,
      });
    }
    return records;
  }

  /** Fails each rule whose listen a foreign socket holds (port-probe.ts). */
  private async probe(rules: readonly RuleRecord[]): Promise<void> {
    if (!this.probePorts) return;
    for (let at = 0; at < rules.length; at += PROBE_CONCURRENCY) {
      const batch = rules.slice(at, at + PROBE_CONCURRENCY);
      const probes = await Promise.all(
        batch.map((rule) => probeListen(rule.spec.listen, rule.spec.protocol)),
      );
      batch.forEach((rule, i) => {
        const probe = probes[i];
        if (probe) this.fail(rule, probe);
      });
    }
  }

  /** Binds `rules` on every shard: Active where all bound, else released everywhere and Failed. */
  private async bind(rules: readonly RuleRecord[]): Promise<void> {
    if (rules.length === 0) return;
    const perShard = await this.shards.bindEverywhere(rules.map((rule) => this.bindingOf(rule)));
    for (const [i, rule] of rules.entries()) {
      const error = perShard.map((errors) => errors[i] ?? null).find((e) => e !== null);
      if (error) {
        await this.shards.broadcast({ type: 'release', slot: rule.slot! });
        this.fail(rule, error);
        continue;
      }
      rule.to('active');
      this.log('debug', 'rule active', {
        rule: rule.spec.name,
        listen: formatListen(rule.spec.listen),
        shards: this.shards.running,
      });
    }
  }

  /** A new record for `spec` with its counter and QoS slots, or failed when there is no room. */
  private prepare(spec: RuleSpec): RuleRecord {
    const rule = new RuleRecord(spec);
    this.rules.set(spec.name, rule);
    const slot = this.slots.take();
    if (slot === null) {
      return this.fail(
        rule,
        CORE_ERRORS.data('rule_capacity_exceeded', { capacity: this.counters.slotCapacity }),
      );
    }
    this.counters.clearSlot(slot);
    rule.slot = slot;
    if (this.ownerSlot(spec.owner) === null) {
      return this.fail(
        rule,
        CORE_ERRORS.data('owner_capacity_exceeded', { capacity: this.qos.ownerCapacity }),
      );
    }
    this.qos.reset(this.qos.rule(slot));
    this.qos.configure(this.qos.rule(slot), spec.limits);
    return rule;
  }

  private bindingOf(rule: RuleRecord): ShardBinding {
    return { rule: rule.spec, slot: rule.slot!, ownerSlot: this.ownerSlots.get(rule.spec.owner)! };
  }

  private fail(rule: RuleRecord, error: CoreErrorData): RuleRecord {
    if (rule.slot !== null) this.slots.give(rule.slot);
    rule.slot = null;
    rule.to('failed', error);
    this.log('warn', 'rule failed', { rule: rule.spec.name, reason: error.code, detail: error.message });
    return rule;
  }

  /** Closes the rule's listeners everywhere now; its connections drain in the background. */
  private async retire(rule: RuleRecord, barrier?: () => Promise<void>): Promise<void> {
    rule.to('draining');
    await this.shards.broadcast({ type: 'unbind', slot: rule.slot! });
    this.log('info', 'rule draining', { rule: rule.spec.name, connections: this.activeConnections(rule) });
    const done = this.drain(rule, barrier).then(() => {
      this.draining.delete(rule);
    });
    this.draining.set(rule, done);
  }

  private async drain(rule: RuleRecord, barrier?: () => Promise<void>): Promise<void> {
    const slot = rule.slot!;
    const deadline = Date.now() + this.drainTimeoutMs;
    while (this.activeConnections(rule) > 0 && Date.now() < deadline) await delay(DRAIN_POLL_MS);
    const left = this.activeConnections(rule);
    await barrier?.();
    await this.shards.broadcast({ type: 'release', slot });
    // Closed connections report their end asynchronously; the slot is reused only once they did.
    const settle = Date.now() + SETTLE_MS;
    while (this.activeConnections(rule) > 0 && Date.now() < settle) await delay(DRAIN_POLL_MS);
    if (this.activeConnections(rule) === 0) this.slots.give(slot);
    else
      this.log('error', 'rule slot not reusable: connections did not report closing', {
        rule: rule.spec.name,
      });
    rule.to('removed');
    this.log('info', 'rule removed', { rule: rule.spec.name, closed_at_drain_timeout: left });
  }

  private activeConnections(rule: RuleRecord): number {
    return rule.slot === null ? 0 : Number(this.counters.sum(rule.slot, FIELD.ACTIVE));
  }
}

/**
 * For `count` drains: each one's call waits until all have called, and `whenAll` runs once then,
 * before any of them goes on (and at once for none).
 */
function drainBarrier(count: number, whenAll: () => void): () => Promise<void> {
  let waiting = count;
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  const arrive = (): Promise<void> => {
    waiting -= 1;
    if (waiting <= 0) {
      whenAll();
      open();
    }
    return opened;
  };
  if (count === 0) void arrive();
  return arrive;
}

/** A UDP rule's receive buffer is set as its sockets are made, so a new size makes new ones. */
function needsRebind(a: RuleSpec, b: RuleSpec): boolean {
  return (
    a.protocol !== b.protocol ||
    JSON.stringify(a.listen) !== JSON.stringify(b.listen) ||
    a.udpReceiveBufferBytes !== b.udpReceiveBufferBytes
  );
}

function sameSpec(a: RuleSpec, b: RuleSpec): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
