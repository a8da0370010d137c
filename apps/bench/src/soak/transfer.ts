// One verified echo transfer, as the soak and chaos runs make them: connect, send a payload, end,
// read the echo until the target ends it, and say how it ended. Every transfer's length is
// compared; a sampled one's sha256 too. What the relay must never do shows as `wrongLength` (a
// clean end with bytes missing: a cut made to look like a finish) or `corrupt`.

import { createHash, randomBytes } from 'node:crypto';
import { createConnection } from 'node:net';
import { emptyTally, type TransferTally } from './soak-messages.ts';

export type TransferOutcome =
  | { readonly kind: 'intact'; readonly bytes: number; readonly hashed: boolean }
  | { readonly kind: 'wrongLength'; readonly sent: number; readonly received: number }
  | { readonly kind: 'corrupt'; readonly bytes: number }
  | { readonly kind: 'error'; readonly code: string }
  | { readonly kind: 'timedOut' };

const POOL_BYTES = 1 << 20;
/** Small transfers: 1 B to 4 KiB. */
const SMALL_MAX = 4096;
/** Sampled transfers: 64 KiB to 512 KiB, so that they span many relay reads. */
const SAMPLED_MIN = 64 * 1024;
const SAMPLED_SPAN = 448 * 1024;

/** Random bytes that transfers are cut from, at offsets that differ from one transfer to the next. */
export class PayloadPool {
  readonly #pool = randomBytes(POOL_BYTES);

  /** Transfer `index`'s payload; every `sampleEvery`th is a large one whose sha256 is compared. */
  payload(index: number, sampleEvery: number): { readonly bytes: Buffer; readonly sampled: boolean } {
    const sampled = sampleEvery > 0 && index % sampleEvery === 0;
    // A multiplicative hash spreads lengths and offsets without a random call per transfer.
    const spread = Math.imul(index + 1, 0x9e3779b1) >>> 0;
    const length = sampled ? SAMPLED_MIN + (spread % SAMPLED_SPAN) : 1 + (spread % SMALL_MAX);
    const offset = (spread >>> 7) % (POOL_BYTES - length);
    return { bytes: this.#pool.subarray(offset, offset + length), sampled };
  }
}

export function runTransfer(
  port: number,
  payload: Buffer,
  hashed: boolean,
  deadlineMs: number,
): Promise<TransferOutcome> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port, noDelay: true });
    const hash = hashed ? createHash('sha256') : null;
    let received = 0;
    let error: string | null = null;
    let sawEnd = false;
    const timer = setTimeout(() => {
      socket.destroy();
      finish({ kind: 'timedOut' });
    }, deadlineMs);
    let settled = false;
    const finish = (outcome: TransferOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    socket.once('connect', () => socket.end(payload));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      hash?.update(chunk);
    });
    socket.once('end', () => {
      sawEnd = true;
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      error ??= err.code ?? err.message;
    });
    socket.once('close', () => {
      if (error !== null || !sawEnd) return finish({ kind: 'error', code: error ?? 'closed_without_end' });
      if (received !== payload.length) return finish({ kind: 'wrongLength', sent: payload.length, received });
      if (hash !== null && !hash.digest().equals(createHash('sha256').update(payload).digest())) {
        return finish({ kind: 'corrupt', bytes: received });
      }
      finish({ kind: 'intact', bytes: received, hashed });
    });
  });
}

/** Adds one outcome to a tally. */
export function count(tally: TransferTally, outcome: TransferOutcome): void {
  switch (outcome.kind) {
    case 'intact':
      tally.intact++;
      tally.bytes += outcome.bytes;
      if (outcome.hashed) tally.hashed++;
      return;
    case 'wrongLength':
      tally.wrongLength++;
      return;
    case 'corrupt':
      tally.corrupt++;
      return;
    case 'error':
      tally.errors[outcome.code] = (tally.errors[outcome.code] ?? 0) + 1;
      return;
    case 'timedOut':
      tally.timedOut++;
      return;
  }
}

/** `total` transfers, `concurrency` at a time; `onDone` after each. */
export async function runTransfers(options: {
  readonly port: () => number;
  readonly total: number;
  readonly concurrency: number;
  readonly sampleEvery: number;
  readonly deadlineMs: number;
  readonly pool: PayloadPool;
  readonly onDone?: (outcome: TransferOutcome, index: number) => void;
  readonly stop?: () => boolean;
}): Promise<TransferTally> {
  const tally = emptyTally();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < options.total && !(options.stop?.() ?? false)) {
      const index = next++;
      const { bytes, sampled } = options.pool.payload(index, options.sampleEvery);
      const outcome = await runTransfer(options.port(), bytes, sampled, options.deadlineMs);
      count(tally, outcome);
      options.onDone?.(outcome, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, lane));
  return tally;
}
