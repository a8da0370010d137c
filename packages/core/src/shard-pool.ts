// The shards: N worker threads, each started with the shared buffers, restarted with backoff
// when it dies, and asked to do things over its MessagePort (one reply per request). The pool
// knows nothing of rules; whoever owns them hears of a shard's death and of its restart.
//
// Shards are plain worker_threads Workers, not piscina tasks: a shard is a long-lived actor with
// an identity (its index owns counter rows and listeners), the pool must see its exit and
// restart that same index, and it must terminate it on shutdown. piscina's strengths (queueing
// finite tasks, sizing a pool) do not apply; finite CPU work elsewhere uses piscina.

import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { type SpliceStatus, spliceStatus } from '@sluice/splice';
import { CORE_ERRORS, type CoreErrorData } from './errors.ts';
import type { LogFn } from './log-fn.ts';
import { relayPathName } from './relay-select.ts';
import type { FromShard, ShardBinding, ShardInit, ToShard } from './shard-messages.ts';

/** A request to a shard, before the pool numbers it. */
export type ShardRequest = ToShard extends infer T
  ? T extends { id: number }
    ? Omit<T, 'id'>
    : never
  : never;

export interface ShardPoolOptions {
  readonly shards: number;
  /** The shared buffers every shard maps. */
  readonly counters: SharedArrayBuffer;
  readonly qos: SharedArrayBuffer;
  readonly budget: SharedArrayBuffer;
  readonly log: LogFn;
  readonly testHooks?: boolean;
  /** How long a shard may take to answer one request (default 5 s). */
  readonly requestTimeoutMs?: number;
  /** A shard died, with whatever it carried; it is restarted after this returns. */
  readonly onExit: (shard: number) => void;
  /** A restarted shard is ready for its rules again. */
  readonly onRestart: (shard: number) => void;
}

interface ShardHandle {
  readonly index: number;
  worker: Worker | null;
  ready: boolean;
  startedAt: number;
  restartDelayMs: number;
  /** Requests in flight: how many answers each expects, and where they go. */
  readonly pending: Map<
    number,
    { readonly count: number; readonly settle: (errors: readonly (CoreErrorData | null)[]) => void }
  >;
}

/** Plain JavaScript: it serves the shard its TypeScript pre-stripped (stripped-sources.js). */
const SHARD_ENTRY = new URL('./shard-boot.js', import.meta.url);
/**
 * Every accepted connection leaves a few KiB of garbage behind (the net.Socket objects the
 * splice path hands off, the stream state of closed connections). With V8's default young
 * generation a shard keeps tens of MiB of it resident between scavenges, which showed up as
 * ~4.3 KiB of RSS per idle connection at 4000 connections; 4 MiB brings that to ~2.8 KiB
 * with no measurable change in single-flow throughput or small-message rate. The edge's
 * command line (`--max-semi-space-size=1`, root script `edge` and the release launcher) is
 * smaller still and wins over this limit: it holds when the edge is started without it.
 */
const SHARD_YOUNG_GENERATION_MB = 4;
/**
 * On x64 V8 copies its 2 MiB of embedded builtins into every isolate's code range, so calls into
 * them are near; each copy is resident in that thread alone, which made it the largest single
 * part of what a shard adds to an idle edge (about 13 MiB, against 11.5 for a bare worker). Off,
 * every shard calls the one copy in the node binary. Only on the native connection path, where
 * the addon moves every byte and its single-flow, small-message and connection figures held.
 * The JS relay calls builtins for every chunk and keeps near calls: two runs each way gave it
 * 4.2-4.5 Gbit/s on one flow with the flag against 6.0-6.6 without, though that figure alone
 * spans 3.7-6.1 between runs of one build.
 * The flag is read when an isolate is made, so the main thread keeps its copy.
 */
const SHARED_BUILTINS_FLAG = '--no-short-builtin-calls';
const RESTART_DELAY_MIN_MS = 100;
const RESTART_DELAY_MAX_MS = 5_000;
/** A shard that stayed up this long starts its next restart from the minimum delay again. */
const STABLE_AFTER_MS = 10_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;

export class ShardPool {
  /** Shards that died and were restarted. */
  restarts = 0;
  /** What the shards reported at start: whether they relay through splice(2), and why. */
  splice: SpliceStatus = { enabled: false, reason: 'no shard started yet' };
  private readonly options: ShardPoolOptions;
  private readonly shards: ShardHandle[];
  private nextRequestId = 1;
  private stopping = false;

  private constructor(options: ShardPoolOptions) {
    this.options = options;
    this.shards = Array.from({ length: options.shards }, (_, index) => ({
      index,
      worker: null,
      ready: false,
      startedAt: 0,
      restartDelayMs: RESTART_DELAY_MIN_MS,
      pending: new Map(),
    }));
  }

  /** Starts every shard; resolves once each is ready (or has died trying). */
  static async start(options: ShardPoolOptions): Promise<ShardPool> {
    const pool = new ShardPool(options);
    await Promise.all(pool.shards.map((shard) => pool.spawn(shard)));
    return pool;
  }

  get count(): number {
    return this.shards.length;
  }

  get running(): number {
    return this.shards.filter((shard) => shard.ready).length;
  }

  /** Asks every running shard; one answer each, null for done. */
  broadcast(request: ShardRequest): Promise<(CoreErrorData | null)[]> {
    return Promise.all(
      this.shards
        .filter((shard) => shard.ready)
        .map(async (shard) => (await this.ask(shard, request, 1))[0]!),
    );
  }

  /** Binds `bindings` on every running shard: per shard, one answer per binding, in order. */
  bindEverywhere(bindings: readonly ShardBinding[]): Promise<(readonly (CoreErrorData | null)[])[]> {
    return Promise.all(
      this.shards
        .filter((shard) => shard.ready)
        .map((shard) => this.ask(shard, { type: 'bind', bindings }, bindings.length)),
    );
  }

  /** Binds `bindings` on one shard (none answered when it is not running). */
  bindOn(index: number, bindings: readonly ShardBinding[]): Promise<readonly (CoreErrorData | null)[]> {
    const shard = this.shards[index];
    return shard?.ready
      ? this.ask(shard, { type: 'bind', bindings }, bindings.length)
      : Promise.resolve(bindings.map(() => null));
  }

  /** Asks one shard; null when it is not running (its restart brings its rules back). */
  request(index: number, request: ShardRequest): Promise<CoreErrorData | null> {
    const shard = this.shards[index];
    return shard?.ready ? this.ask(shard, request, 1).then((errors) => errors[0]!) : Promise.resolve(null);
  }

  isRunning(index: number): boolean {
    return this.shards[index]?.ready ?? false;
  }

  /** Test hook: the shard dies of an uncaught exception (only when testHooks is on). */
  crash(index: number): boolean {
    const shard = this.shards[index];
    if (!this.options.testHooks || !shard?.worker || !shard.ready) return false;
    shard.worker.postMessage({ type: 'crash' } satisfies ToShard);
    return true;
  }

  /** Ends every shard now; none is restarted after this. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.shards.map((shard) => shard.worker?.terminate()));
  }

  private ask(
    shard: ShardHandle,
    request: ShardRequest,
    count: number,
  ): Promise<readonly (CoreErrorData | null)[]> {
    const worker = shard.worker!;
    const id = this.nextRequestId++;
    return new Promise((resolve) => {
      const timeoutMs = this.options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
      const timer = setTimeout(() => {
        shard.pending.delete(id);
        const error = CORE_ERRORS.data('shard_unavailable', { shard: shard.index, ms: timeoutMs });
        resolve(Array.from({ length: count }, () => error));
      }, timeoutMs);
      shard.pending.set(id, {
        count,
        settle: (errors) => {
          clearTimeout(timer);
          resolve(errors);
        },
      });
      worker.postMessage({ ...request, id } as ToShard);
    });
  }

  private spawn(shard: ShardHandle): Promise<void> {
    // Every thread loads the same addon under the same environment, so the main thread's
    // status is the shards'.
    if (relayPathName(spliceStatus()) === 'native') setFlagsFromString(SHARED_BUILTINS_FLAG);
    const init: ShardInit = {
      shard: shard.index,
      shards: this.options.shards,
      counters: this.options.counters,
      qos: this.options.qos,
      budget: this.options.budget,
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
            shard.pending.get(message.id)?.settle([message.error]);
            shard.pending.delete(message.id);
            return;
          case 'bound':
            shard.pending.get(message.id)?.settle(message.errors);
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
        for (const { count, settle } of shard.pending.values())
          settle(Array.from({ length: count }, () => null));
        shard.pending.clear();
        resolve();
        if (this.stopping) return;
        this.restart(shard, code, lastError);
      });
    });
  }

  private restart(shard: ShardHandle, code: number, error: string | null): void {
    this.restarts++;
    this.options.onExit(shard.index);
    if (Date.now() - shard.startedAt > STABLE_AFTER_MS) shard.restartDelayMs = RESTART_DELAY_MIN_MS;
    const delayMs = shard.restartDelayMs;
    shard.restartDelayMs = Math.min(delayMs * 2, RESTART_DELAY_MAX_MS);
    this.options.log('error', 'shard exited', { shard: shard.index, code, error, restart_in_ms: delayMs });
    setTimeout(() => {
      if (this.stopping) return;
      void this.spawn(shard).then(() => {
        if (shard.ready) this.options.onRestart(shard.index);
      });
    }, delayMs);
  }
}
