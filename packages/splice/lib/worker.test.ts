// The addon inside worker threads, as shards use it: loaded first in a worker, relaying on the
// worker's own loop, and leaving no descriptor behind when the worker is terminated.

import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import { Counters, FIELD } from '@sluice/counters';
import { pollUntil } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import type { IdleExitInput } from './idle-exit-worker.fixture.ts';
import type { SpliceCloseResult, SpliceStats } from './native.ts';
import {
  closeServer,
  LOADED_REASON,
  listen,
  openFdCount,
  receivePayload,
  sendPayload,
} from './relay-harness.fixture.ts';
import type { WorkerInput } from './relay-worker.fixture.ts';

const MiB = 1 << 20;
const FIXTURE = new URL('./relay-worker.fixture.ts', import.meta.url);

interface Message {
  readonly type: string;
  readonly port?: number;
  readonly status?: { enabled: boolean; reason: string };
  readonly result?: SpliceCloseResult;
  readonly stats?: SpliceStats;
  readonly id?: number;
}

/** A fixture worker with its messages kept in order, waited for by type. */
class Shard {
  readonly worker: Worker;
  private readonly inbox: Message[] = [];
  private readonly waiters: { type: string; resolve: (m: Message) => void; reject: (e: Error) => void }[] =
    [];
  private exitCode: number | undefined;

  constructor(input: WorkerInput, env?: NodeJS.ProcessEnv) {
    this.worker = new Worker(FIXTURE, { workerData: input, ...(env ? { env } : {}) });
    this.worker.on('message', (message: Message) => {
      const index = this.waiters.findIndex((w) => w.type === message.type);
      if (index >= 0) this.waiters.splice(index, 1)[0]!.resolve(message);
      else this.inbox.push(message);
    });
    this.worker.on('exit', (code: number) => {
      this.exitCode = code;
      for (const w of this.waiters.splice(0))
        w.reject(new Error(`worker exited (${code}) while waiting for ${w.type}`));
    });
  }

  /** The next not yet taken message of `type`. */
  take(type: string): Promise<Message> {
    const index = this.inbox.findIndex((m) => m.type === type);
    if (index >= 0) return Promise.resolve(this.inbox.splice(index, 1)[0]!);
    if (this.exitCode !== undefined) return Promise.reject(new Error(`worker exited (${this.exitCode})`));
    return new Promise((resolve, reject) => this.waiters.push({ type, resolve, reject }));
  }

  async stats(): Promise<SpliceStats> {
    this.worker.postMessage({ type: 'stats' });
    return (await this.take('stats')).stats!;
  }
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function target(allowHalfOpen = false): Promise<{ server: Server; port: number; sockets: Socket[] }> {
  const server = createServer({ allowHalfOpen });
  const sockets: Socket[] = [];
  server.on('connection', (socket: Socket) => sockets.push(socket));
  const port = await listen(server);
  cleanups.push(() => closeServer(server));
  return { server, port, sockets };
}

function start(input: WorkerInput, env?: NodeJS.ProcessEnv): Shard {
  const shard = new Shard(input, env);
  cleanups.push(() => shard.worker.terminate());
  return shard;
}

/** Resolves on 'close' (an 'error' before it is fine: only the close matters here). */
function closed(socket: Socket): Promise<void> {
  return socket.closed ? Promise.resolve() : new Promise((resolve) => socket.once('close', () => resolve()));
}

const addonMapped = (): boolean => readFileSync('/proc/self/maps', 'utf8').includes('sluice_splice.node');

describe('splice relay in a worker thread', () => {
  it('loads first inside a worker and relays there, adding to the shared counters', async () => {
    // This thread never loaded the addon: the worker's load is the first in the process.
    expect(addonMapped()).toBe(false);
    const SIZE = 64 * MiB;
    const view = new Counters(Counters.allocate(1, 2));
    const counters = view.words.buffer as SharedArrayBuffer;
    const row = view.row(1, 0);
    const t = await target(true);
    const shard = start({ targetPort: t.port, counters, row });
    const ready = await shard.take('ready');
    expect(ready.status).toEqual({ enabled: true, reason: LOADED_REASON });
    const accepted = once(t.server, 'connection') as Promise<[Socket]>;
    const client = connect({ port: ready.port!, host: '127.0.0.1', allowHalfOpen: true });
    const [upstream] = await accepted;
    const [clientGot, clientSent, upstreamGot, upstreamSent] = await Promise.all([
      receivePayload(client),
      sendPayload(client, SIZE),
      receivePayload(upstream),
      sendPayload(upstream, SIZE / 2),
    ]);
    expect(upstreamGot).toEqual({ bytes: SIZE, sha256: clientSent });
    expect(clientGot).toEqual({ bytes: SIZE / 2, sha256: upstreamSent });
    const { result } = await shard.take('closed');
    expect(result).toEqual({ reason: 'eof', errno: 0, bytesIn: SIZE, bytesOut: SIZE / 2 });
    expect([view.read(row, FIELD.BYTES_IN), view.read(row, FIELD.BYTES_OUT)]).toEqual([
      BigInt(SIZE),
      BigInt(SIZE / 2),
    ]);
    expect(await shard.stats()).toMatchObject({ relays: 0, pipesInUse: 0 });
    await Promise.all([closed(client), closed(upstream)]);
  }, 60_000);

  it('a terminated worker closes every descriptor, pipe and poll handle it held', async () => {
    const IDLE = 100;
    const t = await target();
    const counters = new SharedArrayBuffer(64 * BigInt64Array.BYTES_PER_ELEMENT);
    const baseline = openFdCount();
    const shard = start({ targetPort: t.port, counters, row: 0 });
    const { port } = await shard.take('ready');
    const clients: Socket[] = [];
    const open = (): Socket => {
      const client = connect({ port: port!, host: '127.0.0.1' });
      client.on('error', () => {}); // the worker's exit may reset a busy connection
      clients.push(client);
      return client;
    };
    // One connection stuck mid-transfer (the target does not read), so a pipe is full at exit...
    const busy = open();
    void sendPayload(busy, 64 * MiB).catch(() => {});
    // ...one that moved bytes and went idle (its pipe went back to the pool)...
    const done = open();
    done.write(Buffer.alloc(4 * MiB));
    // ...and idle ones that never moved a byte.
    for (let i = 0; i < IDLE; i++) open();
    for (let i = 0; i < clients.length; i++) await shard.take('started');
    while (t.sockets.length < clients.length) await once(t.server, 'connection');
    for (const socket of t.sockets) socket.on('error', () => {});
    t.sockets[1]?.resume();
    // Wait until the busy direction has filled its pipe and the other moved its 4 MiB. Polled:
    // the last byte (and the pipe going back to the pool) may come before any wait would begin.
    let stats = await shard.stats();
    await pollUntil(
      async () => {
        stats = await shard.stats();
        return stats.pipesInUse >= 1 && stats.pipesPooled >= 1 && t.sockets[1]!.bytesRead >= 4 * MiB;
      },
      { timeoutMs: 20_000, what: 'a full pipe, a pooled pipe and 4 MiB at the target' },
    );
    expect(stats.relays).toBe(IDLE + 2);
    expect(openFdCount()).toBeGreaterThan(baseline + 4 * IDLE);

    const exited = once(shard.worker, 'exit');
    await shard.worker.terminate();
    await exited;
    // Every relayed connection was reset by the worker's cleanup hook: the peers see it.
    for (const socket of clients) socket.on('error', () => {});
    await Promise.all(
      [...clients, ...t.sockets].map((socket) => (socket.destroyed ? undefined : closed(socket.resume()))),
    );
    expect(openFdCount()).toBe(baseline);
  }, 60_000);

  it('a worker that exits from inside onClose, with more closes queued, exits cleanly', async () => {
    const COUNT = 20;
    const t = await target();
    const counters = new SharedArrayBuffer(64 * BigInt64Array.BYTES_PER_ELEMENT);
    const baseline = openFdCount();
    const shard = start({ targetPort: t.port, counters, row: 0 });
    const { port } = await shard.take('ready');
    const clients = Array.from({ length: COUNT }, () => connect({ port: port!, host: '127.0.0.1' }));
    // destroy() resets both sides: the peers' sockets error with ECONNRESET.
    for (const socket of clients) socket.on('error', () => {});
    for (let i = 0; i < COUNT; i++) await shard.take('started');
    while (t.sockets.length < COUNT) await once(t.server, 'connection');
    for (const socket of t.sockets) socket.on('error', () => {});
    const exited = once(shard.worker, 'exit');
    shard.worker.postMessage({ type: 'destroy-all-and-exit-on-first-close' });
    expect(await exited).toEqual([7]);
    await Promise.all([...clients, ...t.sockets].map((socket) => closed(socket)));
    expect(openFdCount()).toBe(baseline);
  });

  it.each([
    ['that only loaded the addon', false, { loaded: true }],
    [
      'whose relay is done and whose servers are closed',
      true,
      { echoed: 'ping', result: { reason: 'eof', errno: 0, bytesIn: 4, bytesOut: 4 } },
    ],
  ])('a worker %s ends by itself', async (_, relay, answer) => {
    const view = new Counters(Counters.allocate(1, 2));
    const input: IdleExitInput = { counters: view.words.buffer as SharedArrayBuffer, relay };
    const worker = new Worker(new URL('./idle-exit-worker.fixture.ts', import.meta.url), {
      workerData: input,
    });
    expect(await once(worker, 'message')).toEqual([answer]);
    // Nothing keeps its loop alive now: not the addon's epoll set, which watches no socket.
    expect(await once(worker, 'exit')).toEqual([0]);
  });

  it('SLUICE_NO_SPLICE=1 disables the splice path with that reason', async () => {
    const shard = start(
      { targetPort: 1, counters: new SharedArrayBuffer(64), row: 0 },
      { ...process.env, SLUICE_NO_SPLICE: '1' },
    );
    const { status } = await shard.take('status');
    expect(status).toEqual({ enabled: false, reason: 'SLUICE_NO_SPLICE=1' });
  });
});
