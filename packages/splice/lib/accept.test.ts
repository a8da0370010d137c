// The native connection path on its own, in this thread: the addon listens, accepts, asks the
// test for verdicts, connects in the order given (failing over), splices, and tells what
// happened as event records. Real sockets on loopback; no edge.

import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { STRIDE } from '@sluice/counters';
import { BUCKET, QOS_FIELD, QosTable } from '@sluice/qos';
import { freePort, freePorts, pollUntil, requireProgram } from '@sluice/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSplice, spliceErrnoCode } from './index.ts';
import {
  ACCEPT_EVENT,
  ACCEPT_EVENT_WORDS,
  ACCEPT_VERDICT,
  CLOSE_REASONS,
  type NativeSplice,
} from './native.ts';
import { COUNTER_FIELDS, closeServer, listen, openFdCount } from './relay-harness.fixture.ts';

const ROW = 4;
const BATCH = 8;

interface Event {
  readonly kind: number;
  readonly a: number;
  readonly b: number;
  readonly c: number;
}

let splice: NativeSplice;
let qos: QosTable;
let counters: BigInt64Array;
let echo: Server;
let echoPort: number;

function shared(length: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(length * 4));
}

/** A group whose onAccept answers `verdict` for every connection and lists `order`. */
function group(order: readonly number[], verdict: () => number, connectTimeoutMs = 2_000) {
  const verdicts = shared(2 * BATCH);
  const orderWords = shared(1 + order.length);
  const eventWords = shared(4 * ACCEPT_EVENT_WORDS);
  const events: Event[] = [];
  const accepted: number[] = [];
  const id = splice.accept.group(
    (_listener, count) => {
      orderWords[0] = order.length;
      orderWords.set(order, 1);
      for (let i = 0; i < count; i++) {
        accepted.push(verdicts[BATCH + i]!);
        verdicts[i] = verdict();
      }
    },
    (count) => {
      for (let i = 0; i < count; i++) {
        const at = i * ACCEPT_EVENT_WORDS;
        events.push({
          kind: eventWords[at]!,
          a: eventWords[at + 1]!,
          b: eventWords[at + 2]!,
          c: eventWords[at + 3]!,
        });
      }
    },
    verdicts,
    orderWords,
    eventWords,
    { row: ROW * STRIDE, qosRule: qos.rule(0), halfCloseTimeoutMs: 0, connectTimeoutMs },
  );
  return { id, events, accepted };
}

/** Connections the kernel completed on the listener at `port` that nobody accepted yet (ss). */
function acceptQueue(port: number): number {
  const out = execFileSync(requireProgram('ss', 'iproute2'), ['-Hltn', `sport = :${port}`]).toString();
  return Number(out.trim().split(/\s+/)[1] ?? -1);
}

async function roundTrip(port: number, text: string): Promise<string> {
  const socket = connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  socket.end(text);
  const chunks: Buffer[] = [];
  for await (const chunk of socket) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString();
}

function closedEvents(events: readonly Event[]): Event[] {
  return events.filter((e) => e.kind === ACCEPT_EVENT.CLOSED);
}

beforeAll(async () => {
  const loaded = loadSplice();
  if (loaded === null) throw new Error('the splice addon did not load');
  splice = loaded;
  const buffer = QosTable.allocate(4, 4, 1);
  qos = new QosTable(buffer, 0);
  const countersBuffer = new SharedArrayBuffer(16 * STRIDE * 8);
  counters = new BigInt64Array(countersBuffer);
  splice.init(countersBuffer, COUNTER_FIELDS, {
    buffer,
    bandwidthIn: QOS_FIELD.BANDWIDTH_IN,
    bandwidthOut: QOS_FIELD.BANDWIDTH_OUT,
    rate: BUCKET.RATE,
    limitNs: BUCKET.LIMIT_NS,
    tatNs: BUCKET.TAT_NS,
    quotaCapped: QOS_FIELD.QUOTA_CAPPED,
    quotaLeft: QOS_FIELD.QUOTA_LEFT,
  });
  echo = createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('error', () => {}); // destroy() resets the upstream side too
    socket.pipe(socket);
  });
  echoPort = await listen(echo);
});

afterAll(async () => {
  await closeServer(echo);
});

describe('native connection path', () => {
  it('accepts, connects, splices both ways and tells the connect and the clean end', async () => {
    const owner = qos.owner(1);
    const g = group([0], () => owner);
    const port = await freePort();
    const listener = splice.accept.listen(g.id, '127.0.0.1', port, [{ host: '127.0.0.1', port: echoPort }]);
    expect(listener).toBeGreaterThan(0);
    const before = counters[ROW * STRIDE + COUNTER_FIELDS.bytesIn]!;
    expect(await roundTrip(port, 'hello through the addon')).toBe('hello through the addon');
    await pollUntil(() => closedEvents(g.events).length === 1, {
      timeoutMs: 5_000,
      what: 'the closed event',
    });
    expect(g.events).toEqual([
      { kind: ACCEPT_EVENT.CONNECTED, a: 0, b: 0, c: 0 },
      { kind: ACCEPT_EVENT.CLOSED, a: owner, b: CLOSE_REASONS.indexOf('eof'), c: 0 },
    ]);
    expect(counters[ROW * STRIDE + COUNTER_FIELDS.bytesIn]! - before).toBe(23n);
    splice.accept.close(listener);
    splice.accept.dispose(g.id);
  });

  it('fails over to the next target in the order given, telling the refused connect', async () => {
    const owner = qos.owner(1);
    const g = group([0, 1], () => owner);
    const [port, closed] = await freePorts(2);
    const targets = [
      { host: '127.0.0.1', port: closed! },
      { host: '127.0.0.1', port: echoPort },
    ];
    const listener = splice.accept.listen(g.id, '127.0.0.1', port!, targets);
    expect(await roundTrip(port!, 'second target')).toBe('second target');
    await pollUntil(() => closedEvents(g.events).length === 1, {
      timeoutMs: 5_000,
      what: 'the closed event',
    });
    expect(
      g.events.map((e) => [e.kind, e.a, e.kind === ACCEPT_EVENT.CONNECT_FAILED ? spliceErrnoCode(e.b) : e.b]),
    ).toEqual([
      [ACCEPT_EVENT.CONNECT_FAILED, 0, 'ECONNREFUSED'],
      [ACCEPT_EVENT.CONNECTED, 1, 1],
      [ACCEPT_EVENT.CLOSED, owner, CLOSE_REASONS.indexOf('eof')],
    ]);
    splice.accept.close(listener);
    splice.accept.dispose(g.id);
  });

  it('resets a refused connection and tells nothing of it', async () => {
    const g = group([0], () => ACCEPT_VERDICT.REFUSE);
    const port = await freePort();
    const listener = splice.accept.listen(g.id, '127.0.0.1', port, [{ host: '127.0.0.1', port: echoPort }]);
    const socket = connect({ host: '127.0.0.1', port });
    const [error] = (await once(socket, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toBe('ECONNRESET');
    expect(g.events).toEqual([]);
    splice.accept.close(listener);
    splice.accept.dispose(g.id);
  });

  it('closes every open connection of the group on destroy, as destroyed, and gives descriptors back', async () => {
    const owner = qos.owner(2);
    const g = group([0], () => owner);
    const port = await freePort();
    const baseline = openFdCount();
    const listener = splice.accept.listen(g.id, '127.0.0.1', port, [{ host: '127.0.0.1', port: echoPort }]);
    const sockets: Socket[] = [];
    for (let i = 0; i < 3; i++) {
      const socket = connect({ host: '127.0.0.1', port });
      socket.on('error', () => {});
      sockets.push(socket);
      socket.write('x');
      await once(socket, 'data');
    }
    splice.accept.destroy(g.id);
    await pollUntil(() => closedEvents(g.events).length === 3, {
      timeoutMs: 5_000,
      what: 'three closed events',
    });
    expect(closedEvents(g.events).map((e) => [e.a, CLOSE_REASONS[e.b]])).toEqual(
      Array(3).fill([owner, 'destroyed']),
    );
    await Promise.all(sockets.filter((s) => !s.closed).map((s) => once(s, 'close')));
    splice.accept.close(listener);
    splice.accept.dispose(g.id);
    await pollUntil(() => openFdCount() <= baseline, {
      timeoutMs: 5_000,
      what: `descriptors back to ${baseline}`,
    });
  });

  it('when every target refuses, tells each failure and resets the client', async () => {
    const owner = qos.owner(1);
    const g = group([0, 1], () => owner);
    const [port, closedA, closedB] = await freePorts(3);
    const targets = [
      { host: '127.0.0.1', port: closedA! },
      { host: '127.0.0.1', port: closedB! },
    ];
    const listener = splice.accept.listen(g.id, '127.0.0.1', port!, targets);
    const socket = connect({ host: '127.0.0.1', port: port! });
    const [error] = (await once(socket, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toBe('ECONNRESET');
    await pollUntil(() => closedEvents(g.events).length === 1, {
      timeoutMs: 5_000,
      what: 'the closed event',
    });
    expect(
      g.events.map((e) => [e.kind, e.a, e.kind === ACCEPT_EVENT.CONNECT_FAILED ? spliceErrnoCode(e.b) : e.b]),
    ).toEqual([
      [ACCEPT_EVENT.CONNECT_FAILED, 0, 'ECONNREFUSED'],
      [ACCEPT_EVENT.CONNECT_FAILED, 1, 'ECONNREFUSED'],
      [ACCEPT_EVENT.CLOSED, owner, -1],
    ]);
    splice.accept.close(listener);
    splice.accept.dispose(g.id);
  });

  it('refuses bad arguments with an error naming them', async () => {
    const g = group([0], () => ACCEPT_VERDICT.REFUSE);
    const port = await freePort();
    expect(() => splice.accept.listen(g.id, 'localhost', 1, [])).toThrow(
      'acceptListen: host must be an IP literal and port 0..65535',
    );
    expect(() => splice.accept.listen(g.id, '127.0.0.1', port, [{ host: 'example.com', port: 1 }])).toThrow(
      'acceptListen: targets[0] must be an IP literal and a port',
    );
    expect(() =>
      splice.accept.group(
        () => {},
        () => {},
        new Int32Array(4),
        shared(2),
        shared(4),
        { row: 0, qosRule: qos.rule(0), halfCloseTimeoutMs: 0, connectTimeoutMs: 0 },
      ),
    ).toThrow('acceptGroup: verdicts, order and events must be Int32Arrays over SharedArrayBuffers');
    expect(() =>
      splice.accept.configure(g.id, {
        row: 0,
        qosRule: qos.rule(0),
        halfCloseTimeoutMs: -1,
        connectTimeoutMs: 0,
      }),
    ).toThrow('acceptConfigure: options.halfCloseTimeoutMs must be a whole number of ms from 0 to 86400000');
    splice.accept.dispose(g.id);
    expect(() =>
      splice.accept.configure(g.id, { row: 0, qosRule: 0, halfCloseTimeoutMs: 0, connectTimeoutMs: 0 }),
    ).toThrow('acceptConfigure: no such group');
  });

  it('takes a place in the budget before each accept, and at the limit leaves connections in the backlog', async () => {
    // [limit, open, reached, mine], as core's connection budget lays them out (offsets given).
    const words = shared(4);
    expect(() => splice.accept.budget(words, { limit: 0, open: 1, reached: 2, mine: 4 })).toThrow(
      'acceptBudget: offsets.mine must be a word inside words',
    );
    splice.accept.budget(words, { limit: 0, open: 1, reached: 2, mine: 3 });
    Atomics.store(words, 0, 1);
    const owner = qos.owner(1);
    const g = group([0], () => owner);
    const port = await freePort();
    const listener = splice.accept.listen(g.id, '127.0.0.1', port, [{ host: '127.0.0.1', port: echoPort }]);
    const first = connect({ host: '127.0.0.1', port });
    first.on('error', () => {});
    let second: Socket | null = null;
    try {
      first.write('first');
      await once(first, 'data');
      second = connect({ host: '127.0.0.1', port });
      second.on('error', () => {});
      await once(second, 'connect');
      second.write('second');
      // The kernel completed the second's handshake; it waits in the listener's queue.
      await pollUntil(() => acceptQueue(port) === 1, { timeoutMs: 5_000, what: 'the second in the backlog' });
      expect(g.accepted).toHaveLength(1);
      // One place taken (the edge's count and this thread's), and one pause at the limit.
      expect([words[1], words[3], words[2]]).toEqual([1, 1, 1]);
      // The first ends and its place is given back, as JS does on its closed event.
      first.destroy();
      await pollUntil(() => closedEvents(g.events).length === 1, {
        timeoutMs: 5_000,
        what: 'the closed event',
      });
      Atomics.sub(words, 3, 1);
      Atomics.sub(words, 1, 1);
      const [echoed] = await once(second, 'data');
      expect((echoed as Buffer).toString()).toBe('second');
      expect(g.accepted).toHaveLength(2);
      // Paused again once the second took the place: one count per pause, not per recheck.
      expect(Atomics.load(words, 2)).toBe(2);
    } finally {
      first.destroy();
      second?.destroy();
      Atomics.store(words, 0, 0);
      splice.accept.close(listener);
      splice.accept.dispose(g.id);
    }
  });
});
