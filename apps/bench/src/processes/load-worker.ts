// The load generator's piscina worker: runs one LoadTask on this worker thread and answers
// with plain data. Never in the process being measured: the pool lives in the bench process,
// the contender and the target in their own.

import { createConnection, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import {
  encodeHistogram,
  type LatencyHistogram,
  newLatencyHistogram,
  recordMicros,
} from '../scenarios/latency.ts';
import type {
  ConnectTask,
  CountedResult,
  EchoTask,
  HttpResult,
  HttpTask,
  LoadTask,
  StartBarrier,
} from './load-messages.ts';

/** autocannon's own (documented) aggregation, missing from @types/autocannon. */
const aggregateResult = (
  autocannon as unknown as { aggregateResult(raw: unknown, options: autocannon.Options): autocannon.Result }
).aggregateResult;

/** Epoch milliseconds with sub-millisecond resolution. */
const now = (): number => performance.timeOrigin + performance.now();
/** How long a task may run past its window before its stragglers are abandoned. */
const GRACE_MS = 5000;
const CONNECT_TIMEOUT_MS = 10_000;
/** Connects in flight at once while a task opens its connections. */
const CONNECT_CONCURRENCY = 64;

class Tally {
  completed = 0;
  errors = 0;
  firstError: string | null = null;
  readonly histogram: LatencyHistogram = newLatencyHistogram();

  error(err: Error | string): void {
    this.errors++;
    this.firstError ??= typeof err === 'string' ? err : err.message;
  }
}

function connect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect to 127.0.0.1:${port} timed out`));
    }, CONNECT_TIMEOUT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

async function openAll(port: number, count: number, tally: Tally): Promise<Socket[]> {
  const sockets: Socket[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      next++;
      try {
        sockets.push(await connect(port));
      } catch (err) {
        tally.error(err as Error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONNECT_CONCURRENCY, count) }, lane));
  return sockets;
}

/** One connection's request/response loop until the window closes. */
function echoLoop(socket: Socket, task: EchoTask, window: { from: number; to: number }, tally: Tally) {
  const payload = Buffer.alloc(task.size, 0x61);
  return new Promise<void>((resolve) => {
    let received = 0;
    let sentAt = 0;
    const send = (): void => {
      received = 0;
      sentAt = now();
      socket.write(payload);
    };
    const finish = (): void => {
      socket.off('data', onData);
      resolve();
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received < task.size) return;
      const at = now();
      if (sentAt >= window.from && at <= window.to) {
        tally.completed++;
        recordMicros(tally.histogram, (at - sentAt) * 1000);
      }
      if (at < window.to) send();
      else finish();
    };
    socket.on('data', onData);
    socket.once('error', (err) => {
      tally.error(err);
      finish();
    });
    socket.once('close', finish);
    send();
  });
}

/** Atomics.waitAsync (Node 16+; in TypeScript's lib only from ES2024, above this repo's target). */
const waitAsync = (
  Atomics as unknown as {
    waitAsync(
      array: Int32Array,
      index: number,
      value: number,
      timeoutMs: number,
    ): { async: false; value: string } | { async: true; value: Promise<string> };
  }
).waitAsync;

/** Arrives at the barrier and waits until every party has (or its time is up); bounded. */
async function arriveAndWait(barrier: StartBarrier): Promise<void> {
  const slot = new Int32Array(barrier.buffer);
  Atomics.add(slot, 0, 1);
  Atomics.notify(slot, 0);
  const deadline = now() + barrier.timeoutMs;
  for (let seen = Atomics.load(slot, 0); seen < barrier.parties; seen = Atomics.load(slot, 0)) {
    const left = deadline - now();
    if (left <= 0) throw new Error(`the other load workers were not ready within ${barrier.timeoutMs} ms`);
    const wait = waitAsync(slot, 0, seen, left);
    if (wait.async) await wait.value;
  }
}

async function runEcho(task: EchoTask): Promise<CountedResult> {
  const tally = new Tally();
  const sockets = await openAll(task.port, task.connections, tally);
  try {
    await arriveAndWait(task.barrier);
    const from = now() + task.warmupMs;
    const window = { from, to: from + task.durationMs };
    await Promise.race([
      Promise.all(sockets.map((s) => echoLoop(s, task, window, tally))),
      sleep(Math.max(0, window.to + GRACE_MS - now())),
    ]);
  } finally {
    for (const s of sockets) s.destroy();
  }
  return result('echo', tally, task.durationMs);
}

/** connect, send, read back, end, wait for close; the whole cycle is one sample. */
function cycle(port: number, size: number): Promise<void> {
  const payload = Buffer.alloc(size, 0x62);
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port, noDelay: true });
    let received = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('connect-read-close cycle timed out'));
    }, CONNECT_TIMEOUT_MS);
    socket.once('connect', () => socket.write(payload));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received >= size) socket.end();
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      if (received >= size) resolve();
      else reject(new Error(`closed after ${received} of ${size} bytes`));
    });
  });
}

async function runConnect(task: ConnectTask): Promise<CountedResult> {
  const tally = new Tally();
  await arriveAndWait(task.barrier);
  const from = now() + task.warmupMs;
  const to = from + task.durationMs;
  const loop = async (): Promise<void> => {
    // Bounded twice: by the window, and by errors (a refusing target must not spin).
    while (now() < to && tally.errors < 1000) {
      const started = now();
      try {
        await cycle(task.port, task.size);
        const at = now();
        if (started >= from && at <= to) {
          tally.completed++;
          recordMicros(tally.histogram, (at - started) * 1000);
        }
      } catch (err) {
        tally.error(err as Error);
      }
    }
  };
  await Promise.all(Array.from({ length: task.loops }, loop));
  return result('connect', tally, task.durationMs);
}

function result(kind: 'echo' | 'connect', tally: Tally, windowMs: number): CountedResult {
  return {
    kind,
    completed: tally.completed,
    windowMs,
    errors: tally.errors,
    firstError: tally.firstError,
    histogram: encodeHistogram(tally.histogram),
  };
}

async function runHttp(task: HttpTask): Promise<HttpResult> {
  const options: autocannon.Options = {
    url: task.url,
    connections: task.connections,
    duration: task.seconds,
    pipelining: 1,
    timeout: 10,
  };
  if (task.warmupSeconds > 0) {
    Object.assign(options, { warmup: { connections: task.connections, duration: task.warmupSeconds } });
  }
  // Off the main thread autocannon answers its raw result (it expects to be one of its own
  // workers); aggregateResult turns that into the usual summary.
  const raw = await autocannon(options);
  const r = raw.latency !== undefined ? raw : aggregateResult([raw], options);
  const latency = r.latency;
  return {
    kind: 'http',
    // requests.average is a mean of per-second samples, which the aggregation off the main
    // thread does not carry: the total over the run's own duration is the same figure.
    requestsPerSecond: r.requests.total / r.duration,
    requests: r.requests.total,
    latencyMs: {
      p50: latency.p50,
      p99: latency.p99,
      p999: latency.p99_9,
      mean: latency.average,
      max: latency.max,
    },
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    seconds: r.duration,
  };
}

export default async function run(task: LoadTask): Promise<CountedResult | HttpResult> {
  switch (task.kind) {
    case 'echo':
      return runEcho(task);
    case 'connect':
      return runConnect(task);
    case 'http':
      return runHttp(task);
  }
}
