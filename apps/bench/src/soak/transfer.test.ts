// How a transfer's end is classified, against real loopback servers that end it each way a
// relay could: the chaos run's verdict ("never silently truncated") rests on this.

import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { emptyTally } from './soak-messages.ts';
import { count, PayloadPool, runTransfer } from './transfer.ts';

const servers: Server[] = [];
const accepted: Socket[] = [];

async function serve(onClient: (socket: Socket, received: () => Buffer) => void): Promise<number> {
  // Half-open, as the echo target is: a client's end does not end the reply by itself.
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    accepted.push(socket);
    const parts: Buffer[] = [];
    socket.on('data', (chunk) => parts.push(chunk));
    socket.on('error', () => {});
    onClient(socket, () => Buffer.concat(parts));
  });
  servers.push(server);
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', () => listening()));
  return (server.address() as { port: number }).port;
}

afterEach(async () => {
  for (const socket of accepted.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((closed) => s.close(closed))));
});

const payload = Buffer.from('the quick brown fox jumps over the lazy dog, twice over for length');

describe('runTransfer', () => {
  it('is intact when every byte comes back, and says whether it was hashed', async () => {
    const port = await serve((socket) => socket.pipe(socket));
    expect(await runTransfer(port, payload, true, 5000)).toEqual({
      kind: 'intact',
      bytes: payload.length,
      hashed: true,
    });
    expect(await runTransfer(port, payload, false, 5000)).toEqual({
      kind: 'intact',
      bytes: payload.length,
      hashed: false,
    });
  });

  it('calls a clean end with bytes missing wrongLength, with both lengths', async () => {
    const port = await serve((socket, received) =>
      socket.on('end', () => socket.end(received().subarray(0, 10))),
    );
    expect(await runTransfer(port, payload, true, 5000)).toEqual({
      kind: 'wrongLength',
      sent: payload.length,
      received: 10,
    });
  });

  it('calls the right length with other bytes corrupt when hashed, and intact when only the length is checked', async () => {
    const port = await serve((socket, received) =>
      socket.on('end', () => {
        const echo = Buffer.from(received());
        echo[5] = echo[5]! ^ 0xff;
        socket.end(echo);
      }),
    );
    expect(await runTransfer(port, payload, true, 5000)).toEqual({ kind: 'corrupt', bytes: payload.length });
    expect((await runTransfer(port, payload, false, 5000)).kind).toBe('intact');
  });

  it('calls a reset an error with its code, even after some bytes came back', async () => {
    const port = await serve((socket, received) =>
      socket.on('end', () => {
        socket.write(received().subarray(0, 10), () => socket.resetAndDestroy());
      }),
    );
    expect(await runTransfer(port, payload, true, 5000)).toEqual({ kind: 'error', code: 'ECONNRESET' });
  });

  it('calls a refused connection an error', async () => {
    const port = await serve(() => {});
    await new Promise((closed) => servers.pop()!.close(closed));
    expect(await runTransfer(port, payload, false, 5000)).toEqual({ kind: 'error', code: 'ECONNREFUSED' });
  });

  it('gives up on a transfer that neither ends nor fails by its deadline', async () => {
    const port = await serve(() => {});
    expect(await runTransfer(port, payload, false, 200)).toEqual({ kind: 'timedOut' });
  });
});

describe('PayloadPool', () => {
  it('makes every Nth payload a large sampled one and the rest 1 B to 4 KiB, the same for the same index', () => {
    const pool = new PayloadPool();
    for (let i = 0; i < 500; i++) {
      const { bytes, sampled } = pool.payload(i, 50);
      expect(sampled).toBe(i % 50 === 0);
      if (sampled) {
        expect(bytes.length).toBeGreaterThanOrEqual(64 * 1024);
        expect(bytes.length).toBeLessThan(512 * 1024);
      } else {
        expect(bytes.length).toBeGreaterThanOrEqual(1);
        expect(bytes.length).toBeLessThanOrEqual(4096);
      }
      expect(pool.payload(i, 50).bytes.equals(bytes)).toBe(true);
    }
    const lengths = new Set(Array.from({ length: 100 }, (_, i) => pool.payload(i + 1, 0).bytes.length));
    expect(lengths.size).toBeGreaterThan(50);
  });
});

describe('count', () => {
  it('adds each outcome to its own place in the tally', () => {
    const tally = emptyTally();
    count(tally, { kind: 'intact', bytes: 10, hashed: true });
    count(tally, { kind: 'intact', bytes: 5, hashed: false });
    count(tally, { kind: 'wrongLength', sent: 10, received: 3 });
    count(tally, { kind: 'corrupt', bytes: 10 });
    count(tally, { kind: 'error', code: 'ECONNRESET' });
    count(tally, { kind: 'error', code: 'ECONNRESET' });
    count(tally, { kind: 'timedOut' });
    expect(tally).toEqual({
      intact: 2,
      wrongLength: 1,
      corrupt: 1,
      errors: { ECONNRESET: 2 },
      timedOut: 1,
      bytes: 15,
      hashed: 1,
    });
  });
});
