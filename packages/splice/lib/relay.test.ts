// The splice relay on this thread's loop, over real loopback sockets: bytes, half-close, resets,
// backpressure, counters, pipe accounting, destroy and descriptor hygiene.

import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Counters, FIELD } from '@sluice/counters';
import { NO_LIMITS, QOS_FIELD, QosTable, quotaLeft, setQuota } from '@sluice/qos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSplice, spliceErrnoCode, spliceStatus } from './index.ts';
import type { NativeSplice } from './native.ts';
import {
  COUNTER_FIELDS,
  closeServer,
  LOADED_REASON,
  listen,
  openFdCount,
  receivePayload,
  SpliceFront,
  sendPayload,
} from './relay-harness.fixture.ts';

const MiB = 1 << 20;
// The data plane's counters buffer (packages/counters, the one layout); each test takes its
// own row so totals can be compared exactly.
const { BYTES_IN, BYTES_OUT, THROTTLED_NS_IN, THROTTLED_NS_OUT } = FIELD;
// The QoS table the data plane shares (packages/qos): rule entity 0, owner entity 0.
const qos = new QosTable(QosTable.allocate(4, 2));
const view = new Counters(Counters.allocate(1, 64));
const counters = view.words.buffer as SharedArrayBuffer;
let rowsTaken = 0;
const takeRow = (): number => view.row(rowsTaken++, 0);
const counter = (row: number, field: number): bigint => view.read(row, field);

const splice = loadSplice() as NativeSplice;
const servers: Server[] = [];

async function target(options: { allowHalfOpen?: boolean } = {}): Promise<{ server: Server; port: number }> {
  const server = createServer({ allowHalfOpen: options.allowHalfOpen ?? false });
  servers.push(server);
  return { server, port: await listen(server) };
}

async function front(
  targetPort: number,
  row: number,
  halfCloseTimeoutMs = 0,
  entities: { qosOwner?: number; qosRule?: number } = {},
): Promise<SpliceFront> {
  return new SpliceFront(splice, { targetPort, row, halfCloseTimeoutMs, ...entities }).start();
}

/** One client through a fresh front to `server`; resolves with both ends once relayed. */
async function pair(
  server: Server,
  relay: SpliceFront,
  allowHalfOpen = false,
): Promise<{ client: Socket; upstream: Socket }> {
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const client = connect({ port: relay.port, host: '127.0.0.1', allowHalfOpen });
  const [upstream] = await accepted;
  await relay.started(relay.ids.length + relay.refused.length + 1);
  return { client, upstream };
}

/** Resolves on 'close' (an 'error' before it is fine: only the close matters here). */
function closed(socket: Socket): Promise<void> {
  return socket.closed ? Promise.resolve() : new Promise((resolve) => socket.once('close', () => resolve()));
}

/** The error codes the two ends see, as `client ECONNRESET` / `upstream ...`. */
function socketErrors(client: Socket, upstream: Socket): string[] {
  const errors: string[] = [];
  client.on('error', (err: NodeJS.ErrnoException) => errors.push(`client ${err.code}`));
  upstream.on('error', (err: NodeJS.ErrnoException) => errors.push(`upstream ${err.code}`));
  return errors;
}

/** Bytes read until the socket closes (by a reset or not). */
function countUntilClosed(socket: Socket): Promise<number> {
  let bytes = 0;
  socket.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
  });
  return new Promise((resolve) => socket.once('close', () => resolve(bytes)));
}

function errorOf(socket: Socket): Promise<NodeJS.ErrnoException> {
  return new Promise((resolve) => socket.once('error', resolve));
}

beforeAll(() => {
  expect(spliceStatus(), 'the splice binary must be built on Linux').toMatchObject({ enabled: true });
  splice.init(counters, COUNTER_FIELDS, {
    buffer: qos.buffer,
    bandwidthIn: QOS_FIELD.BANDWIDTH_IN,
    bandwidthOut: QOS_FIELD.BANDWIDTH_OUT,
    rate: 0,
    limitNs: 1,
    tatNs: 2,
    quotaCapped: QOS_FIELD.QUOTA_CAPPED,
    quotaLeft: QOS_FIELD.QUOTA_LEFT,
  });
});

afterAll(async () => {
  await Promise.all(servers.map(closeServer));
});

describe('splice relay', () => {
  it('reports where it loaded from', () => {
    expect(spliceStatus().reason).toBe(LOADED_REASON);
  });

  it('carries a few hundred MiB intact both ways at once, counters equal to the totals', async () => {
    const SIZE = 256 * MiB;
    const row = takeRow();
    const t = await target({ allowHalfOpen: true });
    const relay = await front(t.port, row);
    const { client, upstream } = await pair(t.server, relay, true);
    const [clientGot, clientSent, upstreamGot, upstreamSent] = await Promise.all([
      receivePayload(client),
      sendPayload(client, SIZE),
      receivePayload(upstream),
      sendPayload(upstream, SIZE),
    ]);
    expect(upstreamGot).toEqual({ bytes: SIZE, sha256: clientSent });
    expect(clientGot).toEqual({ bytes: SIZE, sha256: upstreamSent });
    const [result] = await relay.closed(1);
    expect(result).toEqual({ reason: 'eof', errno: 0, bytesIn: SIZE, bytesOut: SIZE });
    expect(counter(row, BYTES_IN)).toBe(BigInt(SIZE));
    expect(counter(row, BYTES_OUT)).toBe(BigInt(SIZE));
    expect(splice.stats()).toMatchObject({ relays: 0, pipesInUse: 0 });
    await Promise.all([closed(client), closed(upstream)]);
    await relay.close();
  }, 120_000);

  it('half-close from the client: the target answers after the FIN arrives', async () => {
    const row = takeRow();
    const t = await target({ allowHalfOpen: true });
    const relay = await front(t.port, row);
    const { client, upstream } = await pair(t.server, relay, true);
    let request = '';
    upstream.setEncoding('utf8').on('data', (s: string) => {
      request += s;
    });
    upstream.once('end', () => upstream.end(`pong:${request}`));
    let answer = '';
    client.setEncoding('utf8').on('data', (s: string) => {
      answer += s;
    });
    client.end('ping');
    await once(client, 'end');
    expect(answer).toBe('pong:ping');
    const [result] = await relay.closed(1);
    expect(result).toEqual({ reason: 'eof', errno: 0, bytesIn: 4, bytesOut: 9 });
    expect([counter(row, BYTES_IN), counter(row, BYTES_OUT)]).toEqual([4n, 9n]);
    await Promise.all([closed(client), closed(upstream)]);
    await relay.close();
  });

  it('half-close from the target: the client answers after the FIN arrives', async () => {
    const row = takeRow();
    const t = await target({ allowHalfOpen: true });
    const relay = await front(t.port, row);
    const { client, upstream } = await pair(t.server, relay, true);
    upstream.end('hello');
    let greeting = '';
    client.setEncoding('utf8').on('data', (s: string) => {
      greeting += s;
    });
    client.once('end', () => client.end(`answer to ${greeting}`));
    let answer = '';
    upstream.setEncoding('utf8').on('data', (s: string) => {
      answer += s;
    });
    await once(upstream, 'end');
    expect(answer).toBe('answer to hello');
    const [result] = await relay.closed(1);
    expect(result).toEqual({ reason: 'eof', errno: 0, bytesIn: 15, bytesOut: 5 });
    await Promise.all([closed(client), closed(upstream)]);
    await relay.close();
  });

  it('a client reset becomes a reset toward the target', async () => {
    const t = await target();
    const relay = await front(t.port, takeRow());
    const { client, upstream } = await pair(t.server, relay);
    const upstreamError = errorOf(upstream);
    client.write('some bytes first');
    await once(upstream, 'data');
    client.resetAndDestroy();
    expect((await upstreamError).code).toBe('ECONNRESET');
    const [result] = await relay.closed(1);
    expect(result).toMatchObject({ reason: 'client_reset', bytesIn: 16, bytesOut: 0 });
    expect(spliceErrnoCode(result?.errno ?? 0)).toBe('ECONNRESET');
    await Promise.all([closed(client), closed(upstream)]);
    await relay.close();
  });

  it('a target reset becomes a reset toward the client', async () => {
    const t = await target();
    const relay = await front(t.port, takeRow());
    const { client, upstream } = await pair(t.server, relay);
    const clientError = errorOf(client);
    upstream.write('hello');
    await once(client, 'data');
    upstream.resetAndDestroy();
    expect((await clientError).code).toBe('ECONNRESET');
    const [result] = await relay.closed(1);
    expect(result).toMatchObject({ reason: 'upstream_reset', bytesIn: 0, bytesOut: 5 });
    expect(spliceErrnoCode(result?.errno ?? 0)).toBe('ECONNRESET');
    await Promise.all([closed(client), closed(upstream)]);
    await relay.close();
  });

  it('a slow reader holds bytes in the kernel, not in user memory, and gets them exact', async () => {
    const SIZE = 96 * MiB;
    const row = takeRow();
    const t = await target();
    const relay = await front(t.port, row);
    const accepted = once(t.server, 'connection') as Promise<[Socket]>;
    // The client is the slow reader: one 64 KiB read per timer turn, into one reused buffer
    // (onread), so neither end of the test allocates per chunk and RSS shows the relay.
    const hash = createHash('sha256');
    let received = 0;
    let lagPeak = 0;
    let rssPeak = 0;
    let pipesPeak = 0;
    let upstream: Socket | undefined;
    const client = connect({
      port: relay.port,
      host: '127.0.0.1',
      onread: {
        buffer: Buffer.alloc(64 * 1024),
        callback(bytes: number, buffer: Uint8Array): boolean {
          hash.update(buffer.subarray(0, bytes));
          received += bytes;
          lagPeak = Math.max(lagPeak, (upstream?.bytesWritten ?? 0) - received);
          rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
          pipesPeak = Math.max(pipesPeak, splice.stats().pipesInUse);
          setTimeout(() => client.resume(), 1);
          return false;
        },
      },
    });
    [upstream] = await accepted;
    await relay.started(1);
    const rssBefore = process.memoryUsage().rss;
    const ended = once(client, 'end');
    const sent = await sendPayload(upstream, SIZE);
    await ended;
    expect({ received, sha256: hash.digest('hex') }).toEqual({ received: SIZE, sha256: sent });
    // The reader really fell behind: many MiB were in flight at once...
    expect(lagPeak).toBeGreaterThan(4 * MiB);
    // ...while the relay held one pipe (kernel memory) and the process did not grow with it.
    expect(pipesPeak).toBe(1);
    expect(rssPeak - rssBefore).toBeLessThan(16 * MiB);
    const [result] = await relay.closed(1);
    expect(result).toEqual({ reason: 'eof', errno: 0, bytesIn: 0, bytesOut: SIZE });
    expect(counter(row, BYTES_OUT)).toBe(BigInt(SIZE));
    expect(splice.stats()).toMatchObject({ relays: 0, pipesInUse: 0 });
    await Promise.all([closed(client), closed(upstream)]);
    await relay.close();
  }, 120_000);

  it('a capped direction reads only the tokens owner and rule grant: slower than the cap allows, intact', async () => {
    const SIZE = 3 * MiB;
    const rate = 4 * MiB; // bytes/s on the rule; the owner allows twice that
    const burst = MiB;
    const owner = qos.owner(0);
    const rule = qos.rule(0);
    qos.configure(owner, { ...NO_LIMITS, bandwidthOut: { bytesPerSec: 2 * rate, burstBytes: burst } });
    qos.configure(rule, { ...NO_LIMITS, bandwidthOut: { bytesPerSec: rate, burstBytes: burst } });
    const row = takeRow();
    const t = await target();
    const relay = await front(t.port, row, 0, { qosOwner: owner, qosRule: rule });
    const { client, upstream } = await pair(t.server, relay);
    const started = performance.now();
    const [got, sent] = await Promise.all([receivePayload(client), sendPayload(upstream, SIZE)]);
    const seconds = (performance.now() - started) / 1000;
    expect(got).toEqual({ bytes: SIZE, sha256: sent });
    // The bucket's arithmetic: all but the burst at the rule's rate takes 0.5 s at least.
    expect(seconds).toBeGreaterThanOrEqual((SIZE - burst) / rate - 0.01);
    await relay.closed(1);
    expect(counter(row, BYTES_OUT)).toBe(BigInt(SIZE));
    expect(counter(row, THROTTLED_NS_OUT)).toBeGreaterThan(300_000_000n);
    expect(counter(row, THROTTLED_NS_IN)).toBe(0n);
    qos.configure(owner, NO_LIMITS);
    qos.configure(rule, NO_LIMITS);
    await Promise.all([closed(client), closed(upstream)]);
    await relay.close();
  });

  it('a direction still throttled when the pair closes adds its wait so far to throttledNs', async () => {
    const owner = qos.owner(0);
    const rule = qos.rule(2);
    qos.configure(rule, { ...NO_LIMITS, bandwidthOut: { bytesPerSec: 1000, burstBytes: 1000 } });
    // Another connection of the rule already spent 100 s of its rate: this one waits for tokens
    // (in one timer of at most a second) before it may read a byte.
    qos.chargeBytes(owner, rule, QOS_FIELD.BANDWIDTH_OUT, 100_000);
    const row = takeRow();
    const t = await target();
    const relay = await front(t.port, row, 0, { qosRule: rule });
    const { client, upstream } = await pair(t.server, relay);
    client.on('error', () => {});
    upstream.on('error', () => {});
    upstream.write('held back');
    await new Promise((resolve) => setTimeout(resolve, 300));
    splice.destroy(relay.ids[0] ?? -1);
    const [result] = await relay.closed(1);
    expect(result).toMatchObject({ reason: 'destroyed', bytesOut: 0 });
    expect(counter(row, THROTTLED_NS_OUT)).toBeGreaterThanOrEqual(250_000_000n);
    qos.configure(rule, NO_LIMITS);
    await Promise.all([closed(client), closed(upstream)]);
    await relay.close();
  });

  it('connections sharing an owner cap take turns: each gets a fair share, none waits for the other', async () => {
    const rate = 4 * MiB; // bytes/s for the owner, shared by two connections
    const owner = qos.owner(1);
    qos.configure(owner, { ...NO_LIMITS, bandwidthOut: { bytesPerSec: rate, burstBytes: 256 * 1024 } });
    const t = await target();
    const fronts = [
      await front(t.port, takeRow(), 0, { qosOwner: owner }),
      await front(t.port, takeRow(), 0, { qosOwner: owner }),
    ];
    const pairs = [await pair(t.server, fronts[0]!), await pair(t.server, fronts[1]!)];
    const got = [0, 0];
    for (const [i, { client }] of pairs.entries()) {
      client.on('data', (chunk: Buffer) => {
        got[i]! += chunk.length;
      });
    }
    // Both targets send far more than the cap lets through in the window watched. The window is
    // wall-clock time on purpose: the native relay refills its buckets from the monotonic clock,
    // and the rate over real time is the behaviour under test.
    for (const { upstream } of pairs) void sendPayload(upstream, 64 * MiB, false).catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 300)); // past the burst
    const start = [...got];
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const moved = got.map((n, i) => n - start[i]!);
    const total = moved[0]! + moved[1]!;
    // The sum is the cap (with loopback slack)...
    expect(total).toBeLessThanOrEqual(rate * 1.5 * 1.1);
    expect(total).toBeGreaterThan(rate * 1.5 * 0.8);
    // ...and it is shared: each connection moved at least a third of it.
    expect(Math.min(...moved)).toBeGreaterThan(total / 3);
    qos.configure(owner, NO_LIMITS);
    for (const { client, upstream } of pairs) {
      client.destroy();
      upstream.destroy();
    }
    for (const f of fronts) await f.close();
  });

  it('counters advance during a long transfer and equal the totals at close', async () => {
    const SIZE = 256 * MiB;
    const row = takeRow();
    const t = await target();
    const relay = await front(t.port, row);
    const { client, upstream } = await pair(t.server, relay);
    const samples: { received: number; counted: bigint }[] = [];
    let next = 16 * MiB;
    const got = receivePayload(upstream, (received) => {
      if (received < next) return;
      next += 16 * MiB;
      samples.push({ received, counted: counter(row, BYTES_IN) });
    });
    const sent = await sendPayload(client, SIZE);
    expect(await got).toEqual({ bytes: SIZE, sha256: sent });
    expect(samples.length).toBeGreaterThan(8);
    for (const { received, counted } of samples) {
      // Every byte the target has read was counted, give or take the 64 KiB flush step.
      expect(counted).toBeGreaterThanOrEqual(BigInt(received - 64 * 1024));
      expect(counted).toBeLessThanOrEqual(BigInt(SIZE));
    }
    expect(samples.some(({ counted }) => counted > 0n && counted < BigInt(SIZE))).toBe(true);
    const [result] = await relay.closed(1);
    expect(result?.bytesIn).toBe(SIZE);
    expect(counter(row, BYTES_IN)).toBe(BigInt(SIZE));
    expect(counter(row, BYTES_OUT)).toBe(0n);
    await Promise.all([closed(client), closed(upstream)]);
    await relay.close();
  }, 120_000);

  it('holds 1000 idle relays with no pipe and two descriptors each, then releases them all', async () => {
    const COUNT = 1000;
    const t = await target();
    const relay = await front(t.port, takeRow());
    const upstreams: Socket[] = [];
    t.server.on('connection', (s: Socket) => {
      upstreams.push(s);
      if (upstreams.length === COUNT) t.server.emit('all-accepted');
    });
    const allAccepted = once(t.server, 'all-accepted');
    const baseline = openFdCount();
    const clients: Socket[] = [];
    for (let batch = 0; batch < COUNT / 100; batch++) {
      for (let i = 0; i < 100; i++) clients.push(connect({ port: relay.port, host: '127.0.0.1' }));
      await relay.started(clients.length);
    }
    await allAccepted;
    expect(relay.refused).toEqual([]);
    expect(splice.stats()).toMatchObject({ relays: COUNT, pipesInUse: 0 });
    // Per connection: the client and the target's socket (this test's), plus the relay's two
    // duplicates. The front's own sockets are gone.
    expect(openFdCount() - baseline).toBe(4 * COUNT);
    for (const client of clients) client.end();
    const results = await relay.closed(COUNT);
    expect(results.every((r) => r.reason === 'eof')).toBe(true);
    await Promise.all([...clients, ...upstreams].map(closed));
    expect(splice.stats()).toMatchObject({ relays: 0, pipesInUse: 0 });
    expect(openFdCount()).toBe(baseline);
    await relay.close();
  }, 120_000);

  it("an owner's quota: both directions together move exactly the budget, delivered, then both sides are reset", async () => {
    const owner = qos.owner(1);
    const BUDGET = 3 * MiB + 12_345;
    setQuota(qos.words, owner, BigInt(BUDGET));
    const row = takeRow();
    const t = await target();
    const relay = await front(t.port, row, 0, { qosOwner: owner });
    const { client, upstream } = await pair(t.server, relay);
    const errors = socketErrors(client, upstream);
    // 2 MiB each way, 4 MiB in all: the quota ends in the middle of it.
    const gotUp = countUntilClosed(upstream);
    const gotClient = countUntilClosed(client);
    void sendPayload(client, 2 * MiB, false).catch(() => {});
    void sendPayload(upstream, 2 * MiB, false).catch(() => {});
    const [result] = await relay.closed(1);
    await Promise.all([closed(client), closed(upstream)]);
    expect(result?.reason).toBe('quota_exhausted');
    // Every byte taken from the quota was delivered, none past it.
    expect(result!.bytesIn + result!.bytesOut).toBe(BUDGET);
    const [up, down] = await Promise.all([gotUp, gotClient]);
    expect(up + down).toBe(BUDGET);
    expect(counter(row, BYTES_IN) + counter(row, BYTES_OUT)).toBe(BigInt(BUDGET));
    expect(quotaLeft(qos.words, owner)).toBe(0n);
    expect(errors.sort()).toEqual(['client ECONNRESET', 'upstream ECONNRESET']);
    // A spent quota lets nothing through a new pair either.
    const second = await pair(t.server, relay);
    second.client.on('error', () => {});
    second.upstream.on('error', () => {});
    second.client.write('x');
    const [, again] = await relay.closed(2);
    expect(again).toMatchObject({ reason: 'quota_exhausted', bytesIn: 0, bytesOut: 0 });
    setQuota(qos.words, owner, null);
    await relay.close();
  });

  it("destroy(id, 'quota') cuts an idle pair the same way", async () => {
    const t = await target();
    const relay = await front(t.port, takeRow());
    const { client, upstream } = await pair(t.server, relay);
    const errors = socketErrors(client, upstream);
    client.resume();
    upstream.resume();
    splice.destroy(relay.ids[0] ?? -1, 'quota');
    await Promise.all([closed(client), closed(upstream)]);
    expect(errors.sort()).toEqual(['client ECONNRESET', 'upstream ECONNRESET']);
    const [result] = await relay.closed(1);
    expect(result).toEqual({ reason: 'quota_exhausted', errno: 0, bytesIn: 0, bytesOut: 0 });
    await relay.close();
  });

  it('destroy() closes both sides and reports destroyed', async () => {
    const t = await target();
    const relay = await front(t.port, takeRow());
    const { client, upstream } = await pair(t.server, relay);
    const errors = socketErrors(client, upstream);
    client.resume();
    upstream.resume();
    const id = relay.ids[0] ?? -1;
    splice.destroy(id);
    splice.destroy(id); // already closing: ignored
    splice.destroy(0x7ffffff0); // unknown: ignored
    await Promise.all([closed(client), closed(upstream)]);
    // Cut short by us: both peers see a reset, never a clean end.
    expect(errors.sort()).toEqual(['client ECONNRESET', 'upstream ECONNRESET']);
    const [result] = await relay.closed(1);
    expect(result).toEqual({ reason: 'destroyed', errno: 0, bytesIn: 0, bytesOut: 0 });
    expect(splice.stats()).toMatchObject({ relays: 0, pipesInUse: 0 });
    await relay.close();
  });

  it('refuses descriptors it cannot take with -errno and no callback', () => {
    let called = false;
    const id = splice.relay(1 << 30, 1 << 30, view.row(0, 0), { halfCloseTimeoutMs: 0 }, () => {
      called = true;
    });
    expect(id).toBeLessThan(0);
    expect(spliceErrnoCode(id)).toBe('EBADF');
    expect(called).toBe(false);
    expect(() => splice.relay(0, 0, view.words.length, { halfCloseTimeoutMs: 0 }, () => {})).toThrow(
      RangeError,
    );
  });

  it('gives back a descriptor the loop cannot poll, leaking nothing', async () => {
    const devNull = openSync('/dev/null', 'r');
    const before = openFdCount();
    let called = false;
    const id = splice.relay(devNull, devNull, view.row(0, 0), { halfCloseTimeoutMs: 0 }, () => {
      called = true;
    });
    expect(spliceErrnoCode(id)).toBe('EPERM'); // epoll refuses /dev/null
    await new Promise((resolve) => setImmediate(resolve)); // let its handles finish closing
    expect(called).toBe(false);
    expect(openFdCount()).toBe(before);
    expect(splice.stats()).toMatchObject({ relays: 0, pipesInUse: 0 });
    closeSync(devNull);
  });
});
