// The load generator: a piscina pool of worker threads in the bench process (never in the
// process being measured), one per core. A load is split into one task per worker; they start
// together at an agreed instant, and their counts and histograms are added up here.

import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Piscina } from 'piscina';
import type {
  CountedResult,
  HttpResult,
  HttpTask,
  LoadResult,
  LoadTask,
} from '../processes/load-messages.ts';
import {
  encodeHistogram,
  type LatencySummary,
  latencySummary,
  mergeHistograms,
  perSecond,
} from './latency.ts';

const WORKER = pathToFileURL(join(import.meta.dirname, '..', 'processes', 'load-worker.ts')).href;
/** How long the workers wait for each other at the start line (opening 500 connections included). */
const BARRIER_TIMEOUT_MS = 30_000;

/** `total` split as evenly as possible into at most `parts` positive shares. */
export function splitEvenly(total: number, parts: number): number[] {
  const n = Math.max(1, Math.min(parts, total));
  const base = Math.floor(total / n);
  return Array.from({ length: n }, (_, i) => base + (i < total % n ? 1 : 0));
}

export interface CountedLoad {
  /** Completed per second over the measured window, all workers together. */
  readonly perSecond: number;
  readonly completed: number;
  readonly latency: LatencySummary | null;
  readonly errors: number;
  readonly firstError: string | null;
  /** The merged histogram, compressed and base64 (HdrHistogram's own encoding), µs. */
  readonly histogram: string;
}

export class LoadPool {
  readonly workers: number;
  readonly #pool: Piscina<LoadTask, LoadResult>;

  constructor(workers = availableParallelism()) {
    this.workers = workers;
    this.#pool = new Piscina({
      filename: WORKER,
      minThreads: workers,
      maxThreads: workers,
      idleTimeout: 60_000,
    });
  }

  /** Echo request/response or connect cycles, `amount` connections or loops split over the workers. */
  async counted(
    kind: 'echo' | 'connect',
    port: number,
    amount: number,
    size: number,
    warmupMs: number,
    durationMs: number,
  ): Promise<CountedLoad> {
    const shares = splitEvenly(amount, this.workers);
    // Every task opens its connections, then waits for the others: the windows line up.
    const barrier = {
      buffer: new SharedArrayBuffer(4),
      parties: shares.length,
      timeoutMs: BARRIER_TIMEOUT_MS,
    };
    const tasks: LoadTask[] = shares.map((share) =>
      kind === 'echo'
        ? { kind, port, connections: share, size, barrier, warmupMs, durationMs }
        : { kind, port, loops: share, size, barrier, warmupMs, durationMs },
    );
    const results = (await Promise.all(tasks.map((t) => this.#pool.run(t)))) as CountedResult[];
    const merged = mergeHistograms(results.map((r) => r.histogram));
    const completed = results.reduce((sum, r) => sum + r.completed, 0);
    const errors = results.reduce((sum, r) => sum + r.errors, 0);
    return {
      perSecond: perSecond(completed, durationMs),
      completed,
      latency: latencySummary(merged),
      errors,
      firstError: results.find((r) => r.firstError !== null)?.firstError ?? null,
      histogram: encodeHistogram(merged),
    };
  }

  /** autocannon in one worker (it drives its connections from one event loop). */
  async http(task: Omit<HttpTask, 'kind'>): Promise<HttpResult> {
    return (await this.#pool.run({ kind: 'http', ...task })) as HttpResult;
  }

  async close(): Promise<void> {
    await this.#pool.close({ force: true });
  }
}
