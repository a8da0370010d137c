// The raw binding's own boundary: what init() and relay() refuse from a caller that is not
// lib/index.ts, and that a refused call leaves no relay and no descriptor behind. Each case
// here once reached memory it should not (a detached or re-initialised counters array, a wild
// QoS offset) or left a relay open after a throwing getter.

import { AsyncLocalStorage } from 'node:async_hooks';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { pollUntil } from '@sluice/test-kit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadBinding } from './loader.ts';
import { MAX_HALF_CLOSE_TIMEOUT_MS, type NativeBinding, type SpliceCloseResult } from './native.ts';
import { COUNTER_FIELDS, closeServer, fdOf, listen, openFdCount } from './relay-harness.fixture.ts';

const WORDS = 256;
const QOS_OFFSETS = {
  bandwidthIn: 0,
  bandwidthOut: 8,
  rate: 0,
  limitNs: 1,
  tatNs: 2,
  quotaCapped: 11,
  quotaLeft: 12,
} as const;

let binding: NativeBinding;
let counters: BigInt64Array;
let front: Server;
let target: Server;
let frontPort: number;
let targetPort: number;
const accepted: Socket[] = [];
const opened: Socket[] = [];

function sharedWords(words: number): BigInt64Array {
  return new BigInt64Array(new SharedArrayBuffer(words * 8));
}

// Growable SharedArrayBuffers are ES2024; the project's TypeScript lib stops short of them.
type GrowableSharedBuffer = new (bytes: number, options: { maxByteLength: number }) => SharedArrayBuffer;
function growableShared(bytes: number): SharedArrayBuffer {
  return new (SharedArrayBuffer as unknown as GrowableSharedBuffer)(bytes, { maxByteLength: bytes * 2 });
}

function initDefault(): void {
  counters = sharedWords(WORDS);
  binding.init(counters, COUNTER_FIELDS, { words: sharedWords(64), ...QOS_OFFSETS });
}

/** A connected pair as relay() takes it: a socket the front accepted and one to the target. */
async function pair(): Promise<{ client: Socket; clientFd: number; upstreamFd: number }> {
  const client = connect({ port: frontPort, host: '127.0.0.1' });
  opened.push(client);
  const inbound = new Promise<Socket>((resolve) => front.once('connection', resolve));
  const upstream = connect({ port: targetPort, host: '127.0.0.1' });
  opened.push(upstream);
  await new Promise<void>((resolve) => upstream.once('connect', () => resolve()));
  const side = await inbound;
  return { client, clientFd: fdOf(side), upstreamFd: fdOf(upstream) };
}

const OPTIONS = { halfCloseTimeoutMs: 1_000 };
const noClose = (): void => {};

beforeAll(async () => {
  const loaded = loadBinding();
  if (loaded.binding === null) throw new Error(`the splice binding did not load: ${loaded.reason}`);
  binding = loaded.binding;
  // Paused: the bytes a test sends stay in the kernel for the relay, not in this socket's buffer.
  front = createServer({ pauseOnConnect: true }, (socket) => {
    accepted.push(socket);
    socket.on('error', () => {});
  });
  target = createServer((socket) => {
    accepted.push(socket);
    socket.on('error', () => {});
    socket.resume();
  });
  frontPort = await listen(front);
  targetPort = await listen(target);
});

afterEach(async () => {
  for (const socket of [...opened.splice(0), ...accepted.splice(0)]) socket.destroy();
  await pollUntil(() => binding.stats().relays === 0, { timeoutMs: 5_000, what: 'every relay closed' });
});

afterAll(async () => {
  await closeServer(front);
  await closeServer(target);
});

describe('init()', () => {
  it('refuses counters that are not a BigInt64Array', () => {
    expect(() => binding.init(new Int32Array(new SharedArrayBuffer(64)) as never, COUNTER_FIELDS)).toThrow(
      'init: counters must be a BigInt64Array',
    );
  });

  it('refuses counters over an ArrayBuffer, which could be detached under the relay', () => {
    const plain = new BigInt64Array(WORDS);
    expect(() => binding.init(plain, COUNTER_FIELDS)).toThrow(
      /counters must be a view of a SharedArrayBuffer/,
    );
    // A transferred buffer is how the earlier binding came to write into freed memory.
    const transferred = new BigInt64Array(WORDS);
    structuredClone(transferred.buffer, { transfer: [transferred.buffer] });
    expect(() => binding.init(transferred, COUNTER_FIELDS)).toThrow(/SharedArrayBuffer/);
  });

  it('refuses a SharedArrayBuffer that can grow, even one that claims it cannot', () => {
    const growable = growableShared(WORDS * 8);
    expect(() => binding.init(new BigInt64Array(growable), COUNTER_FIELDS)).toThrow(
      'init: counters must be a view of a SharedArrayBuffer that cannot grow',
    );
    Object.defineProperty(growable, 'growable', { value: false });
    expect(() => binding.init(new BigInt64Array(growable), COUNTER_FIELDS)).toThrow(/cannot grow/);
  });

  it('holds qos.words to the same rule', () => {
    const words = new BigInt64Array(growableShared(512));
    expect(() => binding.init(sharedWords(WORDS), COUNTER_FIELDS, { words, ...QOS_OFFSETS })).toThrow(
      'init: qos.words must be a view of a SharedArrayBuffer that cannot grow',
    );
    expect(() =>
      binding.init(sharedWords(WORDS), COUNTER_FIELDS, { words: new BigInt64Array(64), ...QOS_OFFSETS }),
    ).toThrow(/qos.words must be a view of a SharedArrayBuffer/);
  });

  it('names the offsets when one is not a word offset, and passes on a getter that throws', () => {
    expect(() => binding.init(sharedWords(WORDS), { ...COUNTER_FIELDS, pipeWaits: -1 })).toThrow(
      /fields\.bytesIn, bytesOut, throttledNsIn, throttledNsOut, urgentBytes and pipeWaits must be word offsets/,
    );
    const fields = {
      ...COUNTER_FIELDS,
      get bytesOut(): number {
        throw new Error('from the getter');
      },
    };
    expect(() => binding.init(sharedWords(WORDS), fields)).toThrow('from the getter');
  });

  it('drops the QoS buffer of an earlier init() that had one', async () => {
    initDefault();
    binding.init(sharedWords(WORDS), COUNTER_FIELDS);
    const { clientFd, upstreamFd } = await pair();
    expect(() => binding.relay(clientFd, upstreamFd, 0, { ...OPTIONS, qosOwner: 0 }, noClose)).toThrow(
      'relay: options.qosOwner is outside the QoS buffer (or init() had none)',
    );
  });

  it('is refused while a relay is open', async () => {
    initDefault();
    const { clientFd, upstreamFd } = await pair();
    const id = binding.relay(clientFd, upstreamFd, 0, OPTIONS, noClose);
    expect(id).toBeGreaterThan(0);
    expect(() => binding.init(sharedWords(WORDS), COUNTER_FIELDS)).toThrow(
      'init: relays are open on this thread',
    );
    binding.destroy(id);
  });
});

describe('relay()', () => {
  beforeAll(() => initDefault());

  it('refuses an init() from a getter among its own arguments, and checks against the state it had', async () => {
    initDefault();
    const original = counters;
    const { client, clientFd, upstreamFd } = await pair();
    let refusal = '';
    const options = {
      get halfCloseTimeoutMs(): number {
        try {
          // One word: the row below would be far outside it, had this been taken.
          binding.init(sharedWords(1), COUNTER_FIELDS);
        } catch (error) {
          refusal = (error as Error).message;
        }
        return 1_000;
      },
    };
    const row = WORDS - COUNTER_FIELDS.pipeWaits - 1;
    const results: SpliceCloseResult[] = [];
    const id = binding.relay(clientFd, upstreamFd, row, options, (result) => results.push(result));
    expect(refusal).toBe('init: called from inside relay()');
    expect(id).toBeGreaterThan(0);
    client.end('counted in the first array');
    await pollUntil(() => results.length === 1, { timeoutMs: 5_000, what: 'the relay closed' });
    // Counted at close, in the array init() was given first.
    expect(results[0]?.bytesIn).toBe(26);
    expect(original[row + COUNTER_FIELDS.bytesIn]).toBe(26n);
  });

  it('leaves no relay and no descriptor behind when a getter throws', async () => {
    const { clientFd, upstreamFd } = await pair();
    const before = openFdCount();
    for (const key of ['halfCloseTimeoutMs', 'qosOwner', 'qosRule']) {
      const options = Object.defineProperty({ ...OPTIONS }, key, {
        get: () => {
          throw new Error(`getter ${key}`);
        },
      });
      expect(() => binding.relay(clientFd, upstreamFd, 0, options, noClose)).toThrow(`getter ${key}`);
    }
    expect(binding.stats().relays).toBe(0);
    expect(openFdCount()).toBe(before);
  });

  it.each([Number.POSITIVE_INFINITY, Number.NaN, 1e300, -1, MAX_HALF_CLOSE_TIMEOUT_MS + 1, undefined, '5'])(
    'refuses halfCloseTimeoutMs %s',
    async (value) => {
      const { clientFd, upstreamFd } = await pair();
      const before = openFdCount();
      expect(() =>
        binding.relay(clientFd, upstreamFd, 0, { halfCloseTimeoutMs: value as number }, noClose),
      ).toThrow('relay: options.halfCloseTimeoutMs must be a number from 0 to 86400000 (a day)');
      expect(binding.stats().relays).toBe(0);
      expect(openFdCount()).toBe(before);
    },
  );

  it('takes the longest half-close timeout, a day', async () => {
    const { clientFd, upstreamFd } = await pair();
    const id = binding.relay(
      clientFd,
      upstreamFd,
      0,
      { halfCloseTimeoutMs: MAX_HALF_CLOSE_TIMEOUT_MS },
      noClose,
    );
    expect(id).toBeGreaterThan(0);
    binding.destroy(id);
  });

  it.each([
    ['qosOwner', Number.POSITIVE_INFINITY, 'must be an integer >= -1'],
    ['qosOwner', Number.NaN, 'must be an integer >= -1'],
    ['qosOwner', 1.5, 'must be an integer >= -1'],
    ['qosOwner', -2, 'must be an integer >= -1'],
    ['qosOwner', 1e300, 'is outside the QoS buffer (or init() had none)'],
    ['qosOwner', 2 ** 53, 'is outside the QoS buffer (or init() had none)'],
    ['qosRule', 64, 'is outside the QoS buffer (or init() had none)'],
    // The entity's last word the relay touches (its quota word, offset + 12) must lie inside
    // the 64 words.
    ['qosRule', 52, 'is outside the QoS buffer (or init() had none)'],
    ['qosOwner', 52, 'is outside the QoS buffer (or init() had none)'],
  ])('refuses %s %s', async (key, value, message) => {
    const { clientFd, upstreamFd } = await pair();
    expect(() => binding.relay(clientFd, upstreamFd, 0, { ...OPTIONS, [key]: value }, noClose)).toThrow(
      `relay: options.${key} ${message}`,
    );
    expect(binding.stats().relays).toBe(0);
  });

  it('takes the last entity that fits, and -1 for none', async () => {
    const { clientFd, upstreamFd } = await pair();
    const id = binding.relay(clientFd, upstreamFd, 0, { ...OPTIONS, qosOwner: 51, qosRule: -1 }, noClose);
    expect(id).toBeGreaterThan(0);
    binding.destroy(id);
  });

  it.each([
    ['a negative descriptor', -1, 0, 'relay: descriptors must be non-negative integers'],
    ['a descriptor past int', 2 ** 31, 0, 'relay: descriptors must be non-negative integers'],
    ['a fractional row', 0, 0.5, 'relay: row must be a non-negative integer'],
    ['a row past the counters', 0, WORDS, 'relay: row is outside the counters array'],
  ])('refuses %s', async (_what, fd, row, message) => {
    const { clientFd, upstreamFd } = await pair();
    expect(() => binding.relay(fd === 0 ? clientFd : fd, upstreamFd, row, OPTIONS, noClose)).toThrow(message);
  });
});

describe('onClose', () => {
  it('runs in the async context of the relay() call that started it, each relay its own', async () => {
    initDefault();
    const storage = new AsyncLocalStorage<string>();
    const seen = new Map<string, string | undefined>();
    const ids: number[] = [];
    for (const name of ['first', 'second']) {
      const { clientFd, upstreamFd } = await pair();
      storage.run(name, () => {
        ids.push(
          binding.relay(clientFd, upstreamFd, 0, OPTIONS, (_result: SpliceCloseResult) => {
            seen.set(name, storage.getStore());
          }),
        );
      });
    }
    for (const id of ids) binding.destroy(id);
    await pollUntil(() => seen.size === 2, { timeoutMs: 5_000, what: 'both onClose calls' });
    expect(Object.fromEntries(seen)).toEqual({ first: 'first', second: 'second' });
  });
});

describe('destroy()', () => {
  it('refuses an id that is not one, and a how other than quota', async () => {
    initDefault();
    expect(() => binding.destroy(-1)).toThrow('destroy: id must be a relay id');
    const { clientFd, upstreamFd } = await pair();
    const id = binding.relay(clientFd, upstreamFd, 0, OPTIONS, noClose);
    expect(() => binding.destroy(id, 'now' as never)).toThrow("destroy: how must be 'quota' or absent");
    expect(() => binding.destroy(id, 1 as never)).toThrow("destroy: how must be 'quota' or absent");
    // Refused before it touched the relay: it is still open, and an unknown id is no error.
    expect(binding.stats().relays).toBe(1);
    binding.destroy(id);
    expect(() => binding.destroy(id, 'quota')).not.toThrow();
  });
});
