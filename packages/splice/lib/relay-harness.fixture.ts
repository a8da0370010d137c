// Test support (not exported by the package): a minimal front that hands each accepted
// connection to the splice relay the way the data plane does — accept paused, connect the
// upstream paused, relay(), then drop the JS sockets — plus payload helpers. Runs on any
// thread, so the worker tests use it too.

import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { readdirSync } from 'node:fs';
import { type AddressInfo, createServer, type Server, Socket } from 'node:net';
import { SPLICE_COUNTER_FIELDS } from '@sluice/counters';
import type { NativeSplice, SpliceCloseResult, SpliceCounterFields } from './native.ts';

/** Where the addon adds in a counters row: the data plane's one layout (packages/counters). */
export const COUNTER_FIELDS: SpliceCounterFields = SPLICE_COUNTER_FIELDS;

/** What spliceStatus() says once loaded: the ordinary build, or the one SLUICE_SPLICE_ADDON names (test:asan). */
export const LOADED_REASON = process.env.SLUICE_SPLICE_ADDON
  ? `loaded ${process.env.SLUICE_SPLICE_ADDON} (SLUICE_SPLICE_ADDON)`
  : 'loaded build/Release/sluice_splice.node';

export function fdOf(socket: Socket): number {
  const handle = (socket as unknown as { _handle?: { fd?: number } | null })._handle;
  const fd = handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('socket has no descriptor');
  return fd;
}

export async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

export async function closeServer(server: Server): Promise<void> {
  if (!server.listening) return;
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export interface FrontOptions {
  readonly targetPort: number;
  readonly row: number;
  readonly halfCloseTimeoutMs?: number;
  readonly qosOwner?: number;
  readonly qosRule?: number;
}

export class SpliceFront extends EventEmitter {
  readonly ids: number[] = [];
  readonly results: SpliceCloseResult[] = [];
  readonly refused: number[] = [];
  port = 0;
  private readonly server: Server;
  private readonly splice: NativeSplice;
  private readonly options: FrontOptions;

  constructor(splice: NativeSplice, options: FrontOptions) {
    super();
    this.splice = splice;
    this.options = options;
    this.server = createServer({ pauseOnConnect: true }, (client) => this.accept(client));
  }

  async start(): Promise<this> {
    this.port = await listen(this.server);
    return this;
  }

  private accept(client: Socket): void {
    const upstream = new Socket();
    upstream.pause(); // nothing may be read into JS before the hand-off
    upstream.once('error', (error) => {
      client.destroy();
      this.emit('error', error);
    });
    upstream.connect(this.options.targetPort, '127.0.0.1', () => {
      const id = this.splice.relay(
        fdOf(client),
        fdOf(upstream),
        this.options.row,
        {
          halfCloseTimeoutMs: this.options.halfCloseTimeoutMs ?? 0,
          qosOwner: this.options.qosOwner ?? -1,
          qosRule: this.options.qosRule ?? -1,
        },
        (result) => {
          this.results.push(result);
          this.emit('closed', result);
        },
      );
      if (id < 0) {
        this.refused.push(id);
      } else {
        this.ids.push(id);
      }
      // Our descriptors close; the connections live on through the relay's duplicates.
      client.destroy();
      upstream.destroy();
      this.emit('started', id);
    });
  }

  /** Resolves once `count` connections have been handed to the relay. */
  async started(count: number): Promise<void> {
    while (this.ids.length + this.refused.length < count) await once(this, 'started');
  }

  /** Resolves with the first `count` close results. */
  async closed(count: number): Promise<SpliceCloseResult[]> {
    while (this.results.length < count) await once(this, 'closed');
    return this.results.slice(0, count);
  }

  async close(): Promise<void> {
    await closeServer(this.server);
  }
}

// The payload stream: 1 MiB random blocks, each stamped with its index so that a reordered or
// repeated block changes the hash.
const PAYLOAD_BLOCK = 1 << 20;
let payloadBase: Buffer | undefined;

/** Fills `block` with block number `index` of the payload stream. */
function fillPayloadBlock(block: Buffer, index: number): Buffer {
  payloadBase ??= randomBytes(PAYLOAD_BLOCK);
  payloadBase.copy(block, 0, 0, block.length);
  if (block.length >= 8) block.writeBigUInt64LE(BigInt(index), 0);
  return block;
}

function drained(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      socket.off('close', onClose);
      resolve();
    };
    const onClose = (): void => {
      socket.off('drain', onDrain);
      reject(new Error('socket closed while writing'));
    };
    socket.once('drain', onDrain);
    socket.once('close', onClose);
  });
}

/**
 * Writes `total` bytes of the payload stream with backpressure, then end() (FIN) unless `end`
 * is false, and resolves with the SHA-256 of what was written. It cycles through a few block
 * buffers (each reused only once the socket is done with it), so the writer allocates nothing
 * per block and the process's memory reflects the relay, not the test.
 */
export async function sendPayload(socket: Socket, total: number, end = true): Promise<string> {
  const hash = createHash('sha256');
  const ring = Array.from({ length: 4 }, () => ({
    block: Buffer.allocUnsafe(PAYLOAD_BLOCK),
    done: Promise.resolve(),
  }));
  let sent = 0;
  for (let index = 0; sent < total; index++) {
    const slot = ring[index % ring.length]!;
    await slot.done;
    const length = Math.min(PAYLOAD_BLOCK, total - sent);
    const block = fillPayloadBlock(slot.block.subarray(0, length), index);
    hash.update(block);
    sent += length;
    slot.done = new Promise<void>((resolve, reject) => {
      socket.write(block, (error) => (error ? reject(error) : resolve()));
    });
    slot.done.catch(() => {}); // observed below; a close while waiting for drain reports first
    if (socket.writableNeedDrain) await drained(socket);
  }
  await Promise.all(ring.map((slot) => slot.done));
  if (end) socket.end();
  return hash.digest('hex');
}

export interface Received {
  readonly bytes: number;
  readonly sha256: string;
}

/** Reads until EOF; `onData` sees the running byte count. */
export function receivePayload(socket: Socket, onData?: (received: number) => void): Promise<Received> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let bytes = 0;
    socket.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      bytes += chunk.length;
      onData?.(bytes);
    });
    socket.once('end', () => resolve({ bytes, sha256: hash.digest('hex') }));
    socket.once('error', reject);
  });
}

/** Number of descriptors this process holds. */
export function openFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}
