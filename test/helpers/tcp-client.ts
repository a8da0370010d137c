// Clients that connect through the edge: connect with a deadline, echo round trips, and the
// check that a port refuses connections.

import net from 'node:net';
import { pollUntil, withTimeout } from '@sluice/test-kit';
import { deferCleanup } from './cleanup.ts';

const OPEN_CLIENTS = new Set<net.Socket>();
let cleanupRegistered = false;

function track(socket: net.Socket): void {
  OPEN_CLIENTS.add(socket);
  socket.once('close', () => OPEN_CLIENTS.delete(socket));
  if (!cleanupRegistered) {
    cleanupRegistered = true;
    deferCleanup(() => {
      cleanupRegistered = false;
      for (const open of OPEN_CLIENTS) open.destroy();
      OPEN_CLIENTS.clear();
    });
  }
}

export interface ConnectOptions {
  readonly timeoutMs?: number;
  readonly allowHalfOpen?: boolean;
}

/** Connects to 127.0.0.1:port; the socket is destroyed by the test's cleanup if still open. */
export function connectTcp(port: number, options: ConnectOptions = {}): Promise<net.Socket> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  return new Promise((resolve, reject) => {
    const socket = net.connect({
      host: '127.0.0.1',
      port,
      allowHalfOpen: options.allowHalfOpen ?? false,
      noDelay: true,
    });
    track(socket);
    // Later errors (a reset) are for the test to observe through its own listeners or through
    // 'close'; an unobserved one must not crash the runner.
    socket.on('error', () => {});
    const timer = setTimeout(() => {
      socket.off('error', onError);
      socket.destroy();
      reject(new Error(`connect to 127.0.0.1:${port} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    const onError = (err: Error): void => {
      clearTimeout(timer);
      reject(err);
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

/** Reads exactly `length` bytes (leaving the socket paused), or rejects on end, close or timeout. */
export function readExactly(socket: net.Socket, length: number, timeoutMs = 5_000): Promise<Buffer> {
  // A peer's FIN ends (and, without allowHalfOpen, destroys) even a paused socket.
  if (socket.readableEnded || socket.destroyed) {
    return Promise.reject(new Error(`stream already ${socket.destroyed ? 'closed' : 'ended'}`));
  }
  return withTimeout(
    new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let have = 0;
      const onData = (chunk: Buffer): void => {
        chunks.push(chunk);
        have += chunk.length;
        if (have >= length) {
          off();
          socket.pause();
          const all = Buffer.concat(chunks);
          if (all.length > length) socket.unshift(all.subarray(length));
          resolve(all.subarray(0, length));
        }
      };
      const onEnd = (): void => {
        off();
        reject(new Error(`stream ended after ${have} of ${length} bytes`));
      };
      const onError = (err: Error): void => {
        off();
        reject(err);
      };
      const off = (): void => {
        socket.off('data', onData);
        socket.off('end', onEnd);
        socket.off('close', onEnd);
        socket.off('error', onError);
      };
      socket.on('data', onData);
      socket.once('end', onEnd);
      socket.once('close', onEnd);
      socket.once('error', onError);
      socket.resume();
    }),
    timeoutMs,
    `${length} bytes from 127.0.0.1:${socket.remotePort}`,
  );
}

/** Sends `message` and expects it back byte for byte (the target must echo). */
export async function echoOnce(socket: net.Socket, message: string, timeoutMs = 5_000): Promise<void> {
  const expected = Buffer.from(message);
  socket.write(expected);
  const got = await readExactly(socket, expected.length, timeoutMs);
  if (!got.equals(expected)) throw new Error(`echo mismatch: sent ${message}, got ${got.toString()}`);
}

/** Opens a connection to `port`, does one echo round trip, and closes it. */
export async function echoRoundTrip(port: number, message = 'ping', timeoutMs = 5_000): Promise<void> {
  const socket = await connectTcp(port, { timeoutMs });
  try {
    await echoOnce(socket, message, timeoutMs);
  } finally {
    socket.destroy();
  }
}

/** Resolves with the error code of a failed connect, or null when the connect succeeded. */
export async function connectError(port: number, timeoutMs = 2_000): Promise<string | null> {
  try {
    const socket = await connectTcp(port, { timeoutMs });
    socket.destroy();
    return null;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  }
}

/** Resolves when the socket has closed (both ways), rejects after `timeoutMs`. */
export function closed(socket: net.Socket, timeoutMs: number): Promise<void> {
  if (socket.closed) return Promise.resolve();
  return withTimeout(
    new Promise<void>((resolve) => socket.once('close', () => resolve())),
    timeoutMs,
    `socket to port ${socket.remotePort} to close`,
  );
}

/** Resolves when the peer's FIN arrived (the socket must be flowing or read elsewhere). */
export function ended(socket: net.Socket, timeoutMs: number): Promise<void> {
  if (socket.readableEnded) return Promise.resolve();
  return withTimeout(
    new Promise<void>((resolve, reject) => {
      socket.once('end', () => resolve());
      socket.once('close', () =>
        socket.readableEnded ? resolve() : reject(new Error('closed without end')),
      );
    }),
    timeoutMs,
    `end of stream from port ${socket.remotePort}`,
  );
}

/** A connection the edge admitted and relayed: the echo came back. The socket stays open (paused). */
export interface Admitted {
  readonly admitted: true;
  readonly socket: net.Socket;
}

/** A connection the edge closed before the echo came back (see tryEcho). */
export interface Closed {
  readonly admitted: false;
  /** Bytes that came back before it closed (a refusal at accept sends none). */
  readonly received: number;
  /** The error it closed with (e.g. ECONNRESET), or null for a plain close. */
  readonly error: string | null;
}

export type EchoAttempt = Admitted | Closed;

/**
 * Connects, sends `message` and waits for the echo or for the connection to close, whichever
 * comes first: an admitted connection echoes and is left open for the test, one refused at accept
 * is closed by the edge. A reset that reaches the client before its connect completes (the edge
 * accepts and resets faster than this process sees the handshake) is a close with no byte too.
 * Rejects on a wrong echo, on any other connect error, or when nothing happens in time.
 */
export async function tryEcho(port: number, message: string, timeoutMs = 5_000): Promise<EchoAttempt> {
  const expected = Buffer.from(message);
  let socket: net.Socket;
  try {
    socket = await connectTcp(port, { timeoutMs });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ECONNRESET') return { admitted: false, received: 0, error: code };
    throw err;
  }
  let error: string | null = null;
  socket.on('error', (err: NodeJS.ErrnoException) => {
    error ??= err.code ?? err.message;
  });
  const chunks: Buffer[] = [];
  let received = 0;
  const outcome = new Promise<EchoAttempt>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      received += chunk.length;
      if (received < expected.length) return;
      off();
      socket.pause();
      const got = Buffer.concat(chunks);
      if (got.equals(expected)) resolve({ admitted: true, socket });
      else reject(new Error(`echo mismatch: sent ${message}, got ${got.toString()}`));
    };
    const onClose = (): void => {
      off();
      resolve({ admitted: false, received, error });
    };
    const off = (): void => {
      socket.off('data', onData);
      socket.off('close', onClose);
    };
    socket.on('data', onData);
    socket.once('close', onClose);
    // On a connection the edge already reset this write fails; the error is recorded above.
    socket.write(expected);
  });
  return withTimeout(outcome, timeoutMs, `an echo or a close on 127.0.0.1:${port}`);
}

/** A client that sent a line and waits for its echo: `echoed` once it came back, else `failed`. */
export interface Sender {
  /** null: the connect itself failed (a reset before this side saw it complete). */
  readonly socket: net.Socket | null;
  echoed: boolean;
  /** The connection closed or reset before the echo, or the echo was wrong. */
  failed: Error | null;
}

/**
 * Connects, sends `text` and a newline, and returns at once; the echo is awaited in the
 * background (for up to `timeoutMs`), so a test can open many and watch how each ends.
 */
export async function sendLine(port: number, text: string, timeoutMs = 60_000): Promise<Sender> {
  let socket: net.Socket;
  try {
    socket = await connectTcp(port, { timeoutMs });
  } catch (err) {
    return { socket: null, echoed: false, failed: err as Error };
  }
  const line = Buffer.from(`${text}\n`);
  const sender: Sender = { socket, echoed: false, failed: null };
  socket.write(line);
  readExactly(socket, line.length, timeoutMs).then(
    (got) => {
      if (got.equals(line)) sender.echoed = true;
      else sender.failed = new Error(`sent ${text}, got ${got.toString()}`);
    },
    (err: Error) => {
      sender.failed = err;
    },
  );
  return sender;
}

/**
 * Closes each sender's connection as soon as it has its echo (or, with `mayFail`, has failed),
 * until every one has: on an edge at its connection limit each that ends lets one that waits in.
 * Without `mayFail` a failure is thrown.
 */
export async function closeAsTheyEnd(
  senders: readonly Sender[],
  mayFail: boolean,
  what: string,
): Promise<void> {
  const ended = new Set<Sender>();
  await pollUntil(
    () => {
      for (const sender of senders) {
        if (sender.failed !== null && !mayFail) throw sender.failed;
        if ((sender.echoed || sender.failed !== null) && !ended.has(sender)) {
          sender.socket?.destroy();
          ended.add(sender);
        }
      }
      return ended.size === senders.length;
    },
    { timeoutMs: 60_000, what },
  );
}
