// Deterministic pseudo-random byte streams and their hashes. A stream is AES-128-CTR keystream
// keyed by a seed string: fast enough to feed hundreds of MiB, and any two seeds differ.
// Senders hash what they write, receivers hash what they read; equal digests mean intact bytes.

import { createCipheriv, createHash, type Hash } from 'node:crypto';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export const KIB = 1024;
export const MIB = 1024 * 1024;

const ZEROES = Buffer.alloc(256 * KIB);

/** The bytes of one seeded stream, handed out chunk by chunk. */
export class PayloadSource {
  readonly #cipher;
  #remaining: number;

  constructor(seed: string, totalBytes: number) {
    const key = createHash('sha256').update(seed).digest();
    this.#cipher = createCipheriv('aes-128-ctr', key.subarray(0, 16), key.subarray(16, 32));
    this.#remaining = totalBytes;
  }

  get remaining(): number {
    return this.#remaining;
  }

  /** The next chunk (a fresh buffer, safe to hand to `socket.write`), or null at the end. */
  next(maxBytes: number): Buffer | null {
    if (this.#remaining === 0) return null;
    const size = Math.min(maxBytes, this.#remaining, ZEROES.length);
    this.#remaining -= size;
    return this.#cipher.update(ZEROES.subarray(0, size));
  }
}

export interface Digest {
  readonly bytes: number;
  readonly sha256: string;
}

/** The digest of seeded streams sent one after another, computed without a socket. */
export function payloadDigest(...parts: ReadonlyArray<readonly [seed: string, totalBytes: number]>): Digest {
  const hash = createHash('sha256');
  let bytes = 0;
  for (const [seed, totalBytes] of parts) {
    const source = new PayloadSource(seed, totalBytes);
    for (let chunk = source.next(ZEROES.length); chunk !== null; chunk = source.next(ZEROES.length)) {
      hash.update(chunk);
    }
    bytes += totalBytes;
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** Resolves when the socket can take more, rejects if it closes or fails first. */
export function drained(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      off();
      resolve();
    };
    const onClose = (): void => {
      off();
      reject(new Error(`socket closed while ${socket.writableLength} bytes waited to be written`));
    };
    const onError = (err: Error): void => {
      off();
      reject(err);
    };
    const off = (): void => {
      socket.off('drain', onDrain);
      socket.off('close', onClose);
      socket.off('error', onError);
    };
    socket.on('drain', onDrain);
    socket.on('close', onClose);
    socket.on('error', onError);
  });
}

export interface SendOptions {
  /** Bytes per write; default 64 KiB. */
  readonly chunkBytes?: number;
  /** Pause this long after each chunk (paced streams); default: as fast as the socket takes it. */
  readonly paceMs?: number;
  /** Half-close (`end()`) after the last byte; default true. */
  readonly end?: boolean;
  /** Called after each chunk was handed to the socket, with the running total. */
  readonly onProgress?: (sentBytes: number) => void;
  /**
   * Checked before each chunk: once it returns true the stream stops short of `totalBytes` (and
   * ends as usual); the digest covers what was sent. For streams that run until the test says.
   */
  readonly stopWhen?: () => boolean;
}

/**
 * For senders that share this process with a receiver that stamps arrivals (byte-meter.ts): a
 * yield to the event loop after every chunk. Without it a sender fills a socket's buffers (MiBs
 * on loopback) in one synchronous run, the receiver reads late, and late reads are stamped late.
 * It still sends tens of MiB/s.
 */
export const YIELD_EACH_CHUNK: SendOptions = { paceMs: 0 };

/**
 * Writes the seeded stream to `socket` honouring backpressure. Resolves with the digest of what
 * was written once the last byte was handed to the kernel (and the socket ended, unless told not to).
 */
export async function sendPayload(
  socket: Socket,
  seed: string,
  totalBytes: number,
  options: SendOptions = {},
): Promise<Digest> {
  const source = new PayloadSource(seed, totalBytes);
  const hash = createHash('sha256');
  const chunkBytes = options.chunkBytes ?? 64 * KIB;
  let sent = 0;
  for (;;) {
    if (options.stopWhen?.()) break;
    const chunk = source.next(chunkBytes);
    if (chunk === null) break;
    if (socket.destroyed || socket.writableEnded)
      throw new Error(`socket closed after ${sent} bytes were sent`);
    hash.update(chunk);
    sent += chunk.length;
    const more = socket.write(chunk);
    options.onProgress?.(sent);
    if (!more) await drained(socket);
    if (options.paceMs !== undefined) await sleep(options.paceMs);
  }
  if (options.end ?? true) {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.end(() => {
        socket.off('error', reject);
        resolve();
      });
    });
  }
  return { bytes: sent, sha256: hash.digest('hex') };
}

/** Hashes everything read from `socket` until it ends; rejects if it closes without an end. */
export class PayloadSink {
  readonly done: Promise<Digest>;
  #bytes = 0;
  readonly #hash: Hash = createHash('sha256');

  constructor(socket: Socket, onData?: (receivedBytes: number) => void) {
    this.done = new Promise((resolve, reject) => {
      socket.on('data', (chunk: Buffer) => {
        this.#hash.update(chunk);
        this.#bytes += chunk.length;
        onData?.(this.#bytes);
      });
      socket.once('end', () => resolve({ bytes: this.#bytes, sha256: this.#hash.digest('hex') }));
      socket.once('error', reject);
      socket.once('close', () => reject(new Error(`socket closed without end after ${this.#bytes} bytes`)));
    });
    // A failed transfer is reported by whoever awaits `done`; never as an unhandled rejection.
    this.done.catch(() => {});
    socket.resume();
  }

  get bytes(): number {
    return this.#bytes;
  }
}
