// Reads what a client sends first (a PROXY header, a TLS ClientHello) before any target is
// chosen, bounded in bytes and time. The client socket was accepted paused; it is read only
// here, and paused again as soon as the parser has what it needs. Every byte read is returned,
// so the caller can replay what follows the part it consumed, byte for byte.

import type { Socket } from 'node:net';

export type PreludeVerdict<T> = { readonly done: false } | { readonly done: true; readonly value: T };

export type PreludeResult<T> =
  | { readonly kind: 'done'; readonly value: T; readonly bytes: Buffer }
  /** The client ended or closed before the parser was satisfied. */
  | { readonly kind: 'closed' }
  | { readonly kind: 'timeout'; readonly bytes: Buffer }
  /** maxBytes arrived and the parser still wanted more. */
  | { readonly kind: 'too_big'; readonly bytes: Buffer };

export function readPrelude<T>(
  client: Socket,
  initial: Buffer,
  parse: (bytes: Buffer) => PreludeVerdict<T>,
  maxBytes: number,
  timeoutMs: number,
): Promise<PreludeResult<T>> {
  const first = parse(initial);
  if (first.done) return Promise.resolve({ kind: 'done', value: first.value, bytes: initial });
  return new Promise((resolve) => {
    let bytes = initial;
    const finish = (result: PreludeResult<T>): void => {
      clearTimeout(timer);
      client.pause();
      client.removeListener('data', onData);
      client.removeListener('end', onGone);
      client.removeListener('close', onGone);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      bytes = bytes.length === 0 ? chunk : Buffer.concat([bytes, chunk]);
      const verdict = parse(bytes);
      if (verdict.done) finish({ kind: 'done', value: verdict.value, bytes });
      else if (bytes.length >= maxBytes) finish({ kind: 'too_big', bytes });
    };
    const onGone = (): void => finish({ kind: 'closed' });
    const timer = setTimeout(() => finish({ kind: 'timeout', bytes }), timeoutMs);
    client.on('data', onData);
    client.once('end', onGone);
    client.once('close', onGone);
    client.resume();
  });
}
