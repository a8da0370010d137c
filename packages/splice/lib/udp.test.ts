// The addon's UDP flow path on this thread's loop, over real loopback sockets: flow events,
// replies to the right client, counters, ICMP errors and a move to another target, idle
// expiry, close, and clear errors for bad input.

import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { constants } from 'node:os';
import { Counters, FIELD, UDP_COUNTER_FIELDS } from '@sluice/counters';
import { BUCKET, QOS_FIELD, QosTable } from '@sluice/qos';
import { pollUntil } from '@sluice/test-kit';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadSplice, spliceStatus, type UdpCounterFields, type UdpFlowEvent } from './index.ts';
import type { NativeSplice } from './native.ts';
import { COUNTER_FIELDS } from './relay-harness.fixture.ts';

const qos = new QosTable(QosTable.allocate(4, 2));
const view = new Counters(Counters.allocate(1, 64));
let rowsTaken = 0;
const splice = loadSplice() as NativeSplice;
const FIELDS: UdpCounterFields = UDP_COUNTER_FIELDS;
const RECEIVE_BUFFER = 256 * 1024;

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

beforeAll(() => {
  expect(spliceStatus(), 'the splice binary must be built on Linux').toMatchObject({ enabled: true });
  splice.init(view.words.buffer as SharedArrayBuffer, COUNTER_FIELDS, {
    buffer: qos.buffer,
    bandwidthIn: QOS_FIELD.BANDWIDTH_IN,
    bandwidthOut: QOS_FIELD.BANDWIDTH_OUT,
    rate: BUCKET.RATE,
    limitNs: BUCKET.LIMIT_NS,
    tatNs: BUCKET.TAT_NS,
    quotaCapped: QOS_FIELD.QUOTA_CAPPED,
    quotaLeft: QOS_FIELD.QUOTA_LEFT,
  });
});

async function bound(port = 0): Promise<Socket> {
  const socket = createSocket('udp4');
  socket.bind(port, '127.0.0.1');
  await once(socket, 'listening');
  cleanups.push(() => socket.close());
  return socket;
}

/** A socket answering every datagram with `${tag}:` and the datagram. */
async function echo(tag: string): Promise<number> {
  const socket = await bound();
  socket.on('message', (message, from) =>
    socket.send(Buffer.concat([Buffer.from(`${tag}:`), message]), from.port, from.address),
  );
  return socket.address().port;
}

async function closedPort(): Promise<number> {
  const socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** A native listener on a free loopback port, recording its events. */
async function listener(): Promise<{ id: number; port: number; row: number; events: UdpFlowEvent[] }> {
  const port = await closedPort();
  const row = view.row(rowsTaken++, 0);
  const events: UdpFlowEvent[] = [];
  const id = splice.udpListen('127.0.0.1', port, row, FIELDS, qos.rule(0), RECEIVE_BUFFER, (batch) =>
    events.push(...batch),
  );
  expect(id).toBeGreaterThan(0);
  cleanups.push(() => splice.udpClose(id));
  return { id, port, row, events };
}

async function client(): Promise<{ socket: Socket; replies: string[] }> {
  const socket = await bound();
  const replies: string[] = [];
  socket.on('message', (message) => replies.push(message.toString()));
  return { socket, replies };
}

/**
 * Another process sending `count` datagrams of 1,000 bytes, each starting with its number, as
 * fast as its loop lets it (so the listener's socket is readable again right after each read and
 * the addon paces its reads), then after `pauseMs` one datagram "last". Resolves on its exit.
 */
function denseSender(port: number, count: number, pauseMs: number): Promise<void> {
  const script = `
    const socket = require('node:dgram').createSocket('udp4');
    socket.on('error', () => {});
    socket.connect(${port}, '127.0.0.1', async () => {
      const pause = () => new Promise((done) => setImmediate(done));
      for (let i = 0; i < ${count}; i++) {
        const datagram = Buffer.alloc(1000, 0);
        datagram.writeUInt32BE(i, 0);
        socket.send(datagram);
        if (i % 50 === 49) await pause();
      }
      setTimeout(() => socket.send('last', () => socket.close()), ${pauseMs});
    });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: 'inherit' });
  // A test done before the sender stops it; the sender's own loop is bounded by `count`.
  cleanups.push(() => child.kill());
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0 || signal === 'SIGTERM' ? resolve() : reject(new Error(`the sender exited with ${code}`)),
    );
  });
}

/** A target with a receive buffer large enough for a whole dense stream. */
async function roomyTarget(): Promise<Socket> {
  const socket = await bound();
  socket.setRecvBufferSize(4 * 1024 * 1024);
  return socket;
}

/** A native listener whose receive buffer holds a whole dense stream, opening each new flow to `target`. */
async function openingListener(target: number): Promise<{ id: number; port: number; flows: number[] }> {
  const port = await closedPort();
  const row = view.row(rowsTaken++, 0);
  const flows: number[] = [];
  const id = splice.udpListen('127.0.0.1', port, row, FIELDS, -1, 8 * 1024 * 1024, (batch) => {
    for (const event of batch) {
      if (event.type !== 'new') continue;
      flows.push(event.flow);
      splice.udpOpen(id, event.flow, '127.0.0.1', target, undefined, -1);
    }
  });
  expect(id).toBeGreaterThan(0);
  cleanups.push(() => splice.udpClose(id));
  return { id, port, flows };
}

describe('native UDP flows', () => {
  it('tells of a new client, relays its held and later datagrams, and sends the replies back to it alone', async () => {
    const l = await listener();
    const target = await echo('t');
    const a = await client();
    const b = await client();
    a.socket.send('a1', l.port, '127.0.0.1');
    a.socket.send('a2', l.port, '127.0.0.1');
    b.socket.send('b1', l.port, '127.0.0.1');
    await pollUntil(() => l.events.filter((e) => e.type === 'new').length === 2, {
      timeoutMs: 5_000,
      what: 'two new flows',
    });
    const flows = l.events.filter((e) => e.type === 'new');
    expect(flows.map((e) => e.port).sort()).toEqual(
      [a.socket.address().port, b.socket.address().port].sort(),
    );
    expect(flows.every((e) => e.address === '127.0.0.1')).toBe(true);
    for (const flow of flows)
      expect(splice.udpOpen(l.id, flow.flow, '127.0.0.1', target, undefined, qos.owner(0))).toBe(0);
    await pollUntil(() => a.replies.length === 2 && b.replies.length === 1, {
      timeoutMs: 5_000,
      what: 'the held datagrams answered',
    });
    a.socket.send('a3', l.port, '127.0.0.1');
    await pollUntil(() => a.replies.length === 3, { timeoutMs: 5_000, what: 'a later datagram answered' });
    expect(a.replies).toEqual(['t:a1', 't:a2', 't:a3']);
    expect(b.replies).toEqual(['t:b1']);
    expect(
      l.events
        .filter((e) => e.type === 'answered')
        .map((e) => e.flow)
        .sort(),
    ).toEqual(flows.map((e) => e.flow).sort());
    expect(view.read(l.row, FIELD.PACKETS_IN)).toBe(4n);
    expect(view.read(l.row, FIELD.PACKETS_OUT)).toBe(4n);
    expect(view.read(l.row, FIELD.BYTES_IN)).toBe(8n);
    expect(view.read(l.row, FIELD.BYTES_OUT)).toBe(16n);
  });

  it('keeps datagram boundaries and order in a burst of equal datagrams (the batched and segmented sends)', async () => {
    const l = await listener();
    const seen: Buffer[] = [];
    const target = await bound();
    target.on('message', (message, from) => {
      seen.push(message);
      target.send('ok', from.port, from.address);
    });
    const c = await client();
    c.socket.send('open', l.port, '127.0.0.1');
    await pollUntil(() => l.events.length === 1, { timeoutMs: 5_000, what: 'the new flow' });
    splice.udpOpen(l.id, l.events[0]!.flow, '127.0.0.1', target.address().port, undefined, -1);
    await pollUntil(() => c.replies.length === 1, { timeoutMs: 5_000, what: 'the first reply' });
    // 60 datagrams of 1000 bytes and a shorter last one, sent back to back.
    const burst = Array.from({ length: 61 }, (_, i) => Buffer.alloc(i === 60 ? 123 : 1000, i));
    await Promise.all(
      burst.map(
        (datagram) => new Promise<void>((done) => c.socket.send(datagram, l.port, '127.0.0.1', () => done())),
      ),
    );
    await pollUntil(() => seen.length === 62, { timeoutMs: 5_000, what: 'every datagram at the target' });
    expect(seen.slice(1)).toEqual(burst);
  });

  it('reports ICMP port unreachable as an error and moves the flow, with what it held, to another target', async () => {
    const l = await listener();
    const c = await client();
    c.socket.send('q', l.port, '127.0.0.1');
    await pollUntil(() => l.events.length === 1, { timeoutMs: 5_000, what: 'the new flow' });
    const flow = l.events[0]!.flow;
    expect(splice.udpOpen(l.id, flow, '127.0.0.1', await closedPort(), undefined, -1)).toBe(0);
    await pollUntil(() => l.events.some((e) => e.type === 'error'), {
      timeoutMs: 5_000,
      what: 'the ICMP error',
    });
    expect(l.events[1]).toEqual({ type: 'error', flow, errno: constants.errno.ECONNREFUSED });
    expect(splice.udpOpen(l.id, flow, '127.0.0.1', await echo('second'), undefined, -1)).toBe(0);
    await pollUntil(() => c.replies.length === 1, {
      timeoutMs: 5_000,
      what: 'the reply from the second target',
    });
    expect(c.replies).toEqual(['second:q']);
  });

  it('prefixes each datagram with the PROXY header given, and expires idle flows', async () => {
    const l = await listener();
    const seen: string[] = [];
    const target = await bound();
    target.on('message', (message, from) => {
      seen.push(message.toString());
      target.send('ok', from.port, from.address);
    });
    const c = await client();
    c.socket.send('x', l.port, '127.0.0.1');
    await pollUntil(() => l.events.length === 1, { timeoutMs: 5_000, what: 'the new flow' });
    const flow = l.events[0]!.flow;
    splice.udpOpen(l.id, flow, '127.0.0.1', target.address().port, Buffer.from('HDR|'), -1);
    await pollUntil(() => c.replies.length === 1, { timeoutMs: 5_000, what: 'the reply' });
    expect(seen).toEqual(['HDR|x']);
    expect(splice.udpExpire(l.id, 3_600_000)).toEqual([]);
    await pollUntil(() => splice.udpExpire(l.id, 0).length === 1, {
      timeoutMs: 5_000,
      what: 'the flow to expire',
    });
    c.socket.send('y', l.port, '127.0.0.1');
    await pollUntil(() => l.events.filter((e) => e.type === 'new').length === 2, {
      timeoutMs: 5_000,
      what: 'a new flow',
    });
    expect(l.events.at(-1)).toMatchObject({ type: 'new' });
    expect(l.events.at(-1)!.flow).not.toBe(flow);
  });

  it('frees the port on close, answers -EADDRINUSE for a held port and refuses bad input by name', async () => {
    const l = await listener();
    splice.udpClose(l.id);
    // The descriptor closes once libuv has closed its poll handle, on a later loop turn.
    const again = await pollUntil(
      () =>
        bound(l.port).then(
          () => true,
          () => false,
        ),
      {
        timeoutMs: 5_000,
        what: 'the port free again',
      },
    );
    expect(again).toBe(true);
    const row = view.row(rowsTaken++, 0);
    expect(splice.udpListen('127.0.0.1', l.port, row, FIELDS, -1, RECEIVE_BUFFER, () => {})).toBe(
      -constants.errno.EADDRINUSE,
    );
    expect(() => splice.udpListen('localhost', 1, row, FIELDS, -1, RECEIVE_BUFFER, () => {})).toThrow(
      /udpListen: host must be an IP address/,
    );
    expect(() =>
      splice.udpListen('127.0.0.1', 1, row, { ...FIELDS, bytesIn: 1e9 }, -1, RECEIVE_BUFFER, () => {}),
    ).toThrow(/fields.bytesIn must be a word offset/);
    expect(() => splice.udpListen('127.0.0.1', 1, row, FIELDS, 1e9, RECEIVE_BUFFER, () => {})).toThrow(
      /qosRule must be -1 or an entity/,
    );
    for (const size of [0, 2 ** 30 + 1, 1.5]) {
      expect(() => splice.udpListen('127.0.0.1', 1, row, FIELDS, -1, size, () => {})).toThrow(
        /receiveBuffer must be a byte count from 1 to 2\^30/,
      );
    }
    expect(splice.udpReceiveBuffer(999_999)).toBe(-constants.errno.ENOENT);
    expect(() => splice.udpOpen(1, 1, 'nowhere', 1, undefined, -1)).toThrow(
      /udpOpen: address must be an IP address/,
    );
    expect(splice.udpOpen(999_999, 1, '127.0.0.1', 1, undefined, -1)).toBe(-constants.errno.ENOENT);
  });

  it('relays a dense stream in order on the paced reads, then reads a lone datagram after a pause', async () => {
    const target = await roomyTarget();
    const numbers: number[] = [];
    let last = false;
    target.on('message', (message) => {
      if (message.toString() === 'last') last = true;
      else numbers.push(message.readUInt32BE(0));
    });
    const l = await openingListener(target.address().port);
    await denseSender(l.port, 3_000, 300);
    // The stream's first datagrams may outrun the flow's admission (it holds 64); the rest must
    // all arrive, in the order sent.
    await pollUntil(() => last, { timeoutMs: 10_000, what: 'the datagram sent after the pause' });
    expect(numbers.length).toBeGreaterThan(2_000);
    expect(numbers.at(-1)).toBe(2_999);
    expect(numbers.every((n, i) => i === 0 || n > numbers[i - 1]!)).toBe(true);
    expect(l.flows).toHaveLength(1);
  });

  it('ends a flow and closes its listener while their sockets are read on the pacer', async () => {
    const target = await roomyTarget();
    let received = 0;
    let l: { id: number; port: number; flows: number[] } | undefined;
    target.on('message', (message, from) => {
      received++;
      // Every datagram answered: the flow's own socket is busy too.
      target.send(message.subarray(0, 4), from.port, from.address);
      if (received === 500) splice.udpEnd(l!.id, l!.flows[0]!);
    });
    l = await openingListener(target.address().port);
    const opened = l;
    // Far more than the buffers on the way hold, so the sender is still sending when the first
    // flow ends; the listener closes while the second flow's stream is relayed.
    const sending = denseSender(opened.port, 40_000, 0);
    // The ended flow's next datagram made a new one.
    await pollUntil(() => opened.flows.length >= 2, {
      timeoutMs: 10_000,
      what: 'a second flow after the end',
    });
    const atSecond = received;
    await pollUntil(() => received >= atSecond + 200, {
      timeoutMs: 10_000,
      what: '200 datagrams of the second flow at the target',
    });
    splice.udpClose(opened.id);
    const port = opened.port;
    const again = await pollUntil(
      () =>
        bound(port).then(
          () => true,
          () => false,
        ),
      { timeoutMs: 5_000, what: 'the port of the closed listener free again' },
    );
    expect(again).toBe(true);
    // Its datagrams now meet a closed port (ICMP), which the sender ignores.
    await sending;
  });
});
