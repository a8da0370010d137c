import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import type { LimitsSpec } from '@sluice/config';
import { Counters, FIELD } from '@sluice/counters';
import { NO_LIMITS, QosTable } from '@sluice/qos';
import { pollUntil } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { jsRelay } from './js-relay.ts';
import type { RelayFailure } from './relay-path.ts';

// Real sockets on loopback: client -> [edge listener + jsRelay] -> target.
interface Rig {
  counters: Counters;
  qos: QosTable;
  edgePort: number;
  targetSockets: Socket[];
  edgeSides: { client: Socket; upstream: Socket }[];
  closed: number;
  /** What each relay reported at close, in order. */
  failures: (RelayFailure | null)[];
}

const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

async function rig(
  onTarget: (socket: Socket) => void,
  halfCloseTimeoutMs = 10_000,
  limits: LimitsSpec = NO_LIMITS,
): Promise<Rig> {
  const counters = new Counters(Counters.allocate(1, 1));
  const qos = new QosTable(QosTable.allocate(1, 1));
  qos.configure(qos.rule(0), limits);
  const state: Rig = {
    counters,
    qos,
    edgePort: 0,
    targetSockets: [],
    edgeSides: [],
    closed: 0,
    failures: [],
  };
  const target = createServer({ allowHalfOpen: true }, (socket) => {
    state.targetSockets.push(socket);
    onTarget(socket);
  });
  target.listen(0, '127.0.0.1');
  await once(target, 'listening');
  const targetPort = (target.address() as AddressInfo).port;
  const edge = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
    const upstream = connect({ port: targetPort, host: '127.0.0.1', allowHalfOpen: true });
    upstream.once('connect', () => {
      state.edgeSides.push({ client, upstream });
      jsRelay(client, upstream, {
        counters,
        row: counters.row(0, 0),
        qos,
        qosRule: qos.rule(0),
        qosOwner: qos.owner(0),
        halfCloseTimeoutMs,
        onClose: (failure) => {
          state.failures.push(failure);
          state.closed++;
        },
        onSpliceRefused: () => {},
      });
    });
  });
  edge.listen(0, '127.0.0.1');
  await once(edge, 'listening');
  state.edgePort = (edge.address() as AddressInfo).port;
  servers.push(target, edge);
  return state;
}

function readAll(socket: Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve, reject) => {
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
  });
}

const until = (check: () => boolean, timeoutMs = 5_000): Promise<unknown> =>
  pollUntil(check, { timeoutMs, intervalMs: 10, what: check.toString() });

describe('jsRelay', () => {
  it('delivers an answer the target sends after the client FIN, and counts both directions', async () => {
    const state = await rig((socket) => {
      void readAll(socket).then((request) => socket.end(Buffer.concat([Buffer.from('echo:'), request])));
    });
    const client = connect({ port: state.edgePort, host: '127.0.0.1', allowHalfOpen: true });
    const answer = readAll(client);
    client.end('hello');
    expect((await answer).toString()).toBe('echo:hello');
    await until(() => state.closed === 1);
    expect(state.failures).toEqual([null]);
    const row = state.counters.row(0, 0);
    expect(state.counters.read(row, FIELD.BYTES_IN)).toBe(5n);
    expect(state.counters.read(row, FIELD.BYTES_OUT)).toBe(10n);
  });

  it('keeps the client direction flowing after the target closed its side', async () => {
    let received: Promise<Buffer> = Promise.resolve(Buffer.alloc(0));
    const state = await rig((socket) => {
      received = readAll(socket);
      socket.end('bye');
    });
    const client = connect({ port: state.edgePort, host: '127.0.0.1', allowHalfOpen: true });
    expect((await readAll(client)).toString()).toBe('bye');
    client.end('still talking');
    await until(() => state.targetSockets.length === 1);
    expect((await received).toString()).toBe('still talking');
  });

  it('turns a reset on the target side into a reset for the client', async () => {
    const state = await rig((socket) => {
      socket.once('data', () => socket.resetAndDestroy());
    });
    const client = connect({ port: state.edgePort, host: '127.0.0.1' });
    client.write('x');
    const [error] = (await once(client, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toBe('ECONNRESET');
    await until(() => state.closed === 1);
    // The relay reports it as the splice path does, so both paths count it alike.
    expect(state.failures).toEqual([{ reason: 'upstream_reset', errno: 'ECONNRESET' }]);
  });

  it('buffers at most a bounded window for a client that does not read', async () => {
    const chunk = Buffer.alloc(1 << 20, 7);
    let written = 0;
    const state = await rig((socket) => {
      const pump = (): void => {
        while (written < 256 << 20) {
          written += chunk.length;
          if (!socket.write(chunk)) return void socket.once('drain', pump);
        }
        socket.end();
      };
      pump();
    });
    const client = connect({ port: state.edgePort, host: '127.0.0.1' });
    client.pause();
    await until(() => state.edgeSides.length === 1);
    const { client: edgeClient, upstream } = state.edgeSides[0]!;
    // Let the kernel buffers fill up, then watch what the relay itself holds. The watch is
    // sampling over real time, not a wait for an event: what must not happen (the relay's
    // buffer growing past one chunk) has no event to wait on, and the sockets keep real time.
    await until(() => upstream.isPaused());
    let maxBuffered = 0;
    for (let i = 0; i < 50; i++) {
      maxBuffered = Math.max(maxBuffered, edgeClient.writableLength);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(upstream.isPaused()).toBe(true);
    expect(written).toBeLessThan(256 << 20);
    // One read chunk (64 KiB) on top of the writer's high-water mark.
    expect(maxBuffered).toBeLessThanOrEqual(edgeClient.writableHighWaterMark + 64 * 1024);
    let total = 0;
    client.on('data', (data: Buffer) => {
      total += data.length;
    });
    client.resume();
    await once(client, 'end');
    expect(total).toBe(256 << 20);
  });

  it('resets a half-closed pair that stays silent, reported as idle_timeout', async () => {
    const state = await rig((socket) => socket.on('error', () => {}), 200);
    const client = connect({ port: state.edgePort, host: '127.0.0.1', allowHalfOpen: true });
    let clientError = '';
    let clientEnded = false;
    client.on('error', (err: NodeJS.ErrnoException) => {
      clientError = err.code ?? '';
    });
    client.on('end', () => {
      clientEnded = true;
    });
    client.resume();
    client.end();
    await until(() => client.closed && state.closed === 1);
    expect(state.targetSockets[0]?.readableEnded).toBe(true);
    // The target's direction never ended: the client sees a reset, not a FIN.
    expect({ clientError, clientEnded }).toEqual({ clientError: 'ECONNRESET', clientEnded: false });
    expect(state.failures).toEqual([{ reason: 'idle_timeout', errno: 'ETIMEDOUT' }]);
  });

  it('holds a capped direction to its bandwidth, drops nothing, and passes the FIN on after the last held chunk', async () => {
    const rate = 1_000_000; // 1 MB/s
    const burst = 50_000;
    const sent = randomBytes(300_000);
    const state = await rig(
      (socket) => {
        void readAll(socket).then((got) => socket.end(createHash('sha256').update(got).digest('hex')));
      },
      10_000,
      { ...NO_LIMITS, bandwidthIn: { bytesPerSec: rate, burstBytes: burst } },
    );
    const client = connect({ port: state.edgePort, host: '127.0.0.1', allowHalfOpen: true });
    const answer = readAll(client);
    const started = performance.now();
    client.end(sent);
    expect((await answer).toString()).toBe(createHash('sha256').update(sent).digest('hex'));
    const seconds = (performance.now() - started) / 1000;
    // The cap's arithmetic, not a speed: 300 kB minus the 50 kB burst at 1 MB/s is 0.25 s.
    expect(seconds).toBeGreaterThanOrEqual((sent.length - burst) / rate - 0.01);
    expect(state.counters.read(state.counters.row(0, 0), FIELD.BYTES_IN)).toBe(300_000n);
    expect(state.counters.read(state.counters.row(0, 0), FIELD.THROTTLED_NS_IN)).toBeGreaterThan(
      100_000_000n,
    );
    expect(state.counters.read(state.counters.row(0, 0), FIELD.THROTTLED_NS_OUT)).toBe(0n);
  });
});
