// The splice relay against peers that do what ordinary clients do not: urgent data (MSG_OOB),
// bytes arriving while the process is out of descriptors, and a half-closed reader that stops
// reading for longer than the half-close timeout. Real loopback sockets; the urgent sender is a
// python3 process (Node cannot send MSG_OOB).

import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Counters, FIELD } from '@sluice/counters';
import { pollUntil, requireProgram, UrgentPeer } from '@sluice/test-kit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadSplice, spliceStatus } from './index.ts';
import { MAX_HALF_CLOSE_TIMEOUT_MS, type NativeSplice } from './native.ts';
import {
  COUNTER_FIELDS,
  closeServer,
  listen,
  openFdCount,
  receivePayload,
  SpliceFront,
  sendPayload,
} from './relay-harness.fixture.ts';

const MiB = 1 << 20;
const URGENT = 0x21; // '!': never among the ordinary bytes below
const view = new Counters(Counters.allocate(1, 64));
let rowsTaken = 0;
const takeRow = (): number => view.row(rowsTaken++, 0);
const splice = loadSplice() as NativeSplice;
const servers: Server[] = [];
const peers: UrgentPeer[] = [];

/** Ordinary bytes, a-z repeating from `from`. */
function ordinary(length: number, from = 0): Buffer {
  return Buffer.from(Array.from({ length }, (_, i) => 0x61 + ((from + i) % 26)));
}

/** A target that records what each connection sent and whether it ended cleanly. */
async function recordingTarget(): Promise<{ port: number; received: () => Buffer; ended: Promise<void> }> {
  const chunks: Buffer[] = [];
  let resolveEnded: () => void = () => {};
  const ended = new Promise<void>((resolve) => {
    resolveEnded = resolve;
  });
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    server.once('close-all', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => {});
    socket.once('end', () => {
      resolveEnded();
      socket.end();
    });
  });
  servers.push(server);
  return { port: await listen(server), received: () => Buffer.concat(chunks), ended };
}

/** CPU this process used over `ms` of wall time, as a fraction of one core. */
async function cpuShare(ms: number): Promise<number> {
  const before = process.cpuUsage();
  const start = performance.now();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / (performance.now() - start);
}

/** A splice front to a recording target, and one client that can send urgent data through it. */
async function urgentPair() {
  const row = takeRow();
  const target = await recordingTarget();
  const relay = await new SpliceFront(splice, { targetPort: target.port, row }).start();
  const peer = await UrgentPeer.connect(relay.port);
  peers.push(peer);
  await relay.started(1);
  return { row, target, relay, peer };
}

/** 3 bytes (seen at the target first), one urgent byte, 3000 more; resolves with the ordinary ones. */
async function aroundUrgent(peer: UrgentPeer, target: { received: () => Buffer }): Promise<Buffer> {
  const head = ordinary(3);
  const tail = ordinary(3000, 3);
  await peer.send(head);
  await pollUntil(() => target.received().length === 3, { timeoutMs: 5_000, what: 'the first bytes' });
  await peer.urgent(URGENT);
  await peer.send(tail);
  return Buffer.concat([head, tail]);
}

/** The peer gets its FIN back and nothing else; the relay closed with eof. */
async function closesCleanly(peer: UrgentPeer, relay: SpliceFront, bytesIn: number): Promise<void> {
  expect(await peer.drain()).toBe(0);
  const [result] = await relay.closed(1);
  expect(result).toEqual({ reason: 'eof', errno: 0, bytesIn, bytesOut: 0 });
  await relay.close();
}

beforeAll(() => {
  expect(spliceStatus(), 'the splice binary must be built on Linux').toMatchObject({ enabled: true });
  splice.init(view.words.buffer as SharedArrayBuffer, COUNTER_FIELDS);
});

afterEach(async () => {
  await Promise.all(peers.splice(0).map((peer) => peer.close()));
});

afterAll(async () => {
  // A failed test may leave connections open, which would keep its server from closing.
  for (const server of servers) server.emit('close-all');
  await Promise.all(servers.map(closeServer));
});

describe('out of descriptors', () => {
  it('keeps idle connections whose bytes arrive at the fd limit, and delivers them once descriptors free up', async () => {
    const IDLE = 8;
    const BULK = 32 * MiB;
    const row = takeRow();
    const server = createServer({ allowHalfOpen: true });
    servers.push(server);
    const targets: Socket[] = [];
    server.on('connection', (socket: Socket) => {
      server.once('close-all', () => socket.destroy());
      socket.pause(); // read nothing until told: a busy pair's pipe stays full
      socket.on('error', () => {});
      socket.once('end', () => socket.end());
      targets.push(socket);
    });
    const relay = await new SpliceFront(splice, { targetPort: await listen(server), row }).start();
    const idle = Array.from({ length: IDLE }, () => connect({ port: relay.port, host: '127.0.0.1' }));
    await relay.started(IDLE);
    // Pairs take a pipe at hand-off and give it back, so the pool holds some now. Busy pairs,
    // one more than the pool holds, each keep one full (their targets do not read): from then
    // on a direction that wakes must create a pipe.
    const busyCount = splice.stats().pipesPooled + 1;
    const busy = Array.from({ length: busyCount }, () => connect({ port: relay.port, host: '127.0.0.1' }));
    await relay.started(IDLE + busyCount);
    await pollUntil(() => targets.length === IDLE + busyCount, {
      timeoutMs: 5_000,
      what: 'every target connection',
    });
    const bulkSent = busy.map((client) => sendPayload(client, BULK));
    await pollUntil(() => splice.stats().pipesInUse >= busyCount && splice.stats().pipesPooled === 0, {
      timeoutMs: 10_000,
      what: `${busyCount} pipes held and none pooled (${JSON.stringify(splice.stats())})`,
    });
    const closedEarly: number[] = [];
    for (const [i, client] of idle.entries()) client.on('close', () => closedEarly.push(i));
    for (const client of [...idle, ...busy]) client.on('error', () => {});

    // Lower this process's soft limit to what it holds plus a few, then take those few: the
    // next pipe2() fails with EMFILE. The hard limit stays, so the soft one can go back.
    const prlimit = requireProgram('prlimit', 'util-linux');
    const [soft, hard] = execFileSync(prlimit, [
      '--pid',
      String(process.pid),
      '--nofile',
      '--raw',
      '--noheadings',
    ])
      .toString()
      .trim()
      .split(/\s+/)
      .slice(-3, -1);
    const filler: number[] = [];
    try {
      execFileSync(prlimit, ['--pid', String(process.pid), `--nofile=${openFdCount() + 16}:${hard}`]);
      for (;;) {
        try {
          filler.push(openSync('/dev/null', 'r'));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EMFILE') break;
          throw err;
        }
      }
      for (const [i, client] of idle.entries()) client.write(`hello ${i}`);
      await pollUntil(() => view.read(row, FIELD.PIPE_WAITS) >= BigInt(IDLE), {
        timeoutMs: 5_000,
        what: 'every idle direction to wait for a pipe',
      });
      // Waiting costs nothing: no poll on the waiting direction, a timer with backoff.
      expect(await cpuShare(1_000)).toBeLessThan(0.2);
      expect(relay.results).toEqual([]);
      expect(closedEarly).toEqual([]);
    } finally {
      for (const fd of filler) closeSync(fd);
      execFileSync(prlimit, ['--pid', String(process.pid), `--nofile=${soft}:${hard}`]);
    }
    for (const client of idle) client.end();
    for (const client of [...idle, ...busy]) client.resume();
    const received = targets.map((socket) => receivePayload(socket));
    for (const socket of targets) socket.resume();
    const got = await Promise.all(received);
    const hellos = got.slice(0, IDLE);
    const bulk = got.slice(IDLE);
    expect(hellos.map((r) => r.bytes)).toEqual(idle.map((_, i) => `hello ${i}`.length));
    expect(bulk).toEqual(
      await Promise.all(bulkSent.map(async (sha256) => ({ bytes: BULK, sha256: await sha256 }))),
    );
    const results = await relay.closed(IDLE + busyCount);
    expect(results.map((r) => r.reason)).toEqual(Array(IDLE + busyCount).fill('eof'));
    await relay.close();
  }, 30_000);
});

describe('urgent data', () => {
  it('one urgent byte mid-stream: every ordinary byte after it arrives while the peer holds, without spinning', async () => {
    const { row, target, relay, peer } = await urgentPair();
    const sent = await aroundUrgent(peer, target);
    // The peer holds (no FIN): everything ordinary arrives all the same.
    await pollUntil(() => target.received().length === sent.length, {
      timeoutMs: 5_000,
      what: `${sent.length} bytes at the target (got ${target.received().length})`,
    });
    expect(target.received()).toEqual(sent);
    expect(view.read(row, FIELD.URGENT_BYTES)).toBe(1n);
    // Parked after the urgent byte: the relay waits, it does not poll a readable socket forever.
    expect(await cpuShare(1_000)).toBeLessThan(0.2);
    await peer.shutdown();
    await target.ended;
    await closesCleanly(peer, relay, sent.length);
  });

  it('many urgent bytes: the ordinary stream arrives whole, each urgent byte skipped or (superseded) inline', async () => {
    const ROUNDS = 20;
    const { row, target, relay, peer } = await urgentPair();
    const parts: Buffer[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const part = ordinary(100 + i, i);
      parts.push(part);
      await peer.send(part);
      await peer.urgent(URGENT);
    }
    await peer.shutdown();
    await target.ended;
    const received = target.received();
    const inline = received.filter((byte) => byte === URGENT).length;
    // TCP has one urgent pointer: an urgent byte not yet skipped when the next one arrives
    // becomes an ordinary byte (the kernel does that, for a direct connection too).
    expect(Buffer.from(received.filter((byte) => byte !== URGENT))).toEqual(Buffer.concat(parts));
    // The kernel may also drop a superseded one outright; none is ever counted twice.
    expect(BigInt(inline) + view.read(row, FIELD.URGENT_BYTES)).toBeLessThanOrEqual(BigInt(ROUNDS));
    expect(view.read(row, FIELD.URGENT_BYTES)).toBeGreaterThan(0n);
    await closesCleanly(peer, relay, received.length);
  });

  it('an urgent byte at the very end, the peer holding: nothing spins, and its FIN later closes cleanly', async () => {
    const { row, target, relay, peer } = await urgentPair();
    const body = ordinary(5000);
    await peer.send(body);
    await peer.urgent(URGENT);
    await pollUntil(() => target.received().length === body.length, { timeoutMs: 5_000, what: 'the body' });
    expect(await cpuShare(1_000)).toBeLessThan(0.2);
    await peer.shutdown();
    await target.ended;
    expect(target.received()).toEqual(body);
    expect(view.read(row, FIELD.URGENT_BYTES)).toBe(1n);
    await closesCleanly(peer, relay, body.length);
  });

  it('an urgent byte right before the FIN, with bytes behind it: all ordinary bytes, then a clean end both ways', async () => {
    const { row, target, relay, peer } = await urgentPair();
    const sent = await aroundUrgent(peer, target);
    await peer.shutdown();
    await target.ended;
    expect(target.received()).toEqual(sent);
    expect(view.read(row, FIELD.URGENT_BYTES)).toBe(1n);
    await closesCleanly(peer, relay, sent.length);
  });
});

/** A splice front to `server` whose half-closed pairs may stay silent for `halfCloseTimeoutMs`. */
async function halfCloseFront(server: Server, halfCloseTimeoutMs = 200): Promise<SpliceFront> {
  const targetPort = await listen(server);
  return new SpliceFront(splice, { targetPort, row: takeRow(), halfCloseTimeoutMs }).start();
}

describe('deadlines', () => {
  it('the longest half-close timeout neither fires nor spins (its deadline is added with saturation)', async () => {
    const server = createServer({ allowHalfOpen: true });
    servers.push(server);
    server.on('connection', (socket: Socket) => {
      server.once('close-all', () => socket.destroy());
      socket.resume();
    });
    const relay = await halfCloseFront(server, MAX_HALF_CLOSE_TIMEOUT_MS);
    const client = connect({ port: relay.port, host: '127.0.0.1', allowHalfOpen: true });
    await relay.started(1);
    client.resume();
    client.end('bye');
    await pollUntil(() => client.writableFinished, { timeoutMs: 5_000, what: 'the FIN sent' });
    expect(await cpuShare(500)).toBeLessThan(0.2);
    expect(relay.results).toEqual([]);
    client.destroy();
    await relay.close();
  });
});

describe('half-closed slow reader', () => {
  it('a reader that pauses past the half-close timeout still gets every byte and a clean end', async () => {
    const SIZE = 8 * MiB;
    const server = createServer({ allowHalfOpen: true });
    servers.push(server);
    let sent: Promise<string> | undefined;
    server.on('connection', (socket: Socket) => {
      server.once('close-all', () => socket.destroy());
      socket.on('error', () => {});
      socket.resume();
      // The client's FIN first, then the whole answer.
      socket.once('end', () => {
        sent = sendPayload(socket, SIZE);
      });
    });
    const relay = await halfCloseFront(server);
    const client = connect({ port: relay.port, host: '127.0.0.1', allowHalfOpen: true });
    await relay.started(1);
    client.pause();
    client.end('request');
    // Not reading for five times the timeout, while the answer fills every buffer on the way.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(relay.results).toEqual([]);
    const receiving = receivePayload(client);
    client.resume();
    const got = await receiving;
    await pollUntil(() => sent, { timeoutMs: 1_000, what: 'the answer' });
    expect(got).toEqual({ bytes: SIZE, sha256: await sent! });
    const [result] = await relay.closed(1);
    expect(result).toEqual({ reason: 'eof', errno: 0, bytesIn: 7, bytesOut: SIZE });
    await relay.close();
  }, 20_000);

  it('a half-closed pair silent past the timeout, nothing in flight, is reset both ways (never a FIN)', async () => {
    const server = createServer({ allowHalfOpen: true });
    servers.push(server);
    server.on('connection', (socket: Socket) => server.once('close-all', () => socket.destroy()));
    const accepted = once(server, 'connection') as Promise<[Socket]>;
    const relay = await halfCloseFront(server);
    const client = connect({ port: relay.port, host: '127.0.0.1', allowHalfOpen: true });
    const [upstream] = await accepted;
    await relay.started(1);
    const errors: string[] = [];
    let clientEnded = false;
    client.on('end', () => {
      clientEnded = true;
    });
    client.on('error', (err: NodeJS.ErrnoException) => errors.push(`client ${err.code}`));
    upstream.on('error', (err: NodeJS.ErrnoException) => errors.push(`upstream ${err.code}`));
    upstream.resume();
    client.resume();
    client.end('bye');
    await once(upstream, 'end');
    const [result] = await relay.closed(1);
    expect(result).toEqual({ reason: 'idle_timeout', errno: 0, bytesIn: 3, bytesOut: 0 });
    // The target's direction never ended: the client must not see it end cleanly. The target,
    // which read its FIN already, meets the reset on its next write.
    await pollUntil(
      () => {
        if (!upstream.closed) upstream.write('x');
        return client.closed && upstream.closed;
      },
      { timeoutMs: 5_000, intervalMs: 50, what: 'both sockets closed' },
    );
    expect(clientEnded).toBe(false);
    expect(errors.sort()).toEqual([
      'client ECONNRESET',
      expect.stringMatching(/^upstream (ECONNRESET|EPIPE)$/),
    ]);
    await relay.close();
  });
});
