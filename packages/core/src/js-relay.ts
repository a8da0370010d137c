// The JavaScript relay: moves bytes between two connected sockets with
// - backpressure: a direction pauses its reader when the writer's buffer passes its high-water
//   mark, so a slow reader holds the edge to one read chunk plus that mark per direction;
// - half-close: one side's FIN becomes end() (shutdown(SHUT_WR)) on the other while the other
//   direction keeps flowing;
// - reset propagation: a reset on one side resets the other, as the kernel's own path would;
// - a half-closed pair that stays silent is closed after halfCloseTimeoutMs.
// Listeners are shared functions that find their state through the socket, not per-connection
// closures: an idle relayed connection should cost as little heap as possible.

import type { Socket } from 'node:net';
import { FIELD } from './counters-layout.ts';
import type { RelayContext, RelayHandle, RelayPath } from './relay-path.ts';

const PEER = Symbol('sluice.peer');
const RELAY = Symbol('sluice.relay');
const FIELD_OF = Symbol('sluice.field');

interface RelaySocket extends Socket {
  [PEER]: RelaySocket;
  [RELAY]: JsRelay;
  [FIELD_OF]: number;
}

class JsRelay implements RelayHandle {
  readonly client: RelaySocket;
  readonly upstream: RelaySocket;
  readonly context: RelayContext;
  private openSockets = 2;
  private halfClosed = false;

  constructor(client: RelaySocket, upstream: RelaySocket, context: RelayContext) {
    this.client = client;
    this.upstream = upstream;
    this.context = context;
  }

  /** Cut short by us (drain timeout, shard exit): both peers see a reset, not a clean end. */
  destroy(): void {
    this.client.resetAndDestroy();
    this.upstream.resetAndDestroy();
  }

  startHalfCloseTimer(): void {
    if (this.halfClosed) return;
    this.halfClosed = true;
    // Socket timeouts count inactivity in both directions of each socket, which is exactly
    // "the remaining direction stays silent".
    this.client.setTimeout(this.context.halfCloseTimeoutMs, onTimeout);
    this.upstream.setTimeout(this.context.halfCloseTimeoutMs, onTimeout);
  }

  socketClosed(): void {
    this.openSockets--;
    if (this.openSockets === 0) this.context.onClose();
  }
}

function onData(this: RelaySocket, chunk: Buffer): void {
  this[RELAY].context.counters.add(this[RELAY].context.row, this[FIELD_OF], chunk.length);
  if (!this[PEER].write(chunk)) this.pause();
}

function onDrain(this: RelaySocket): void {
  this[PEER].resume();
}

function onEnd(this: RelaySocket): void {
  this[PEER].end();
  this[RELAY].startHalfCloseTimer();
}

function onError(this: RelaySocket): void {
  // A reset (or any error) on one side resets the other instead of closing it politely.
  const peer = this[PEER];
  if (!peer.destroyed) peer.resetAndDestroy();
}

function onClose(this: RelaySocket): void {
  const peer = this[PEER];
  // A socket closes cleanly only once both its directions ended; the peer then has nothing left
  // to send but may still be flushing, so it gets end() rather than destroy().
  if (!peer.destroyed) {
    peer.end();
    this[RELAY].startHalfCloseTimer();
  }
  this[RELAY].socketClosed();
}

function onTimeout(this: RelaySocket): void {
  // One direction already ended and the other stayed silent: a normal close, as the splice path does.
  this[RELAY].client.destroy();
  this[RELAY].upstream.destroy();
}

function wire(socket: RelaySocket, peer: RelaySocket, relay: JsRelay, field: number): void {
  socket[PEER] = peer;
  socket[RELAY] = relay;
  socket[FIELD_OF] = field;
  socket.on('data', onData);
  socket.on('drain', onDrain);
  socket.on('end', onEnd);
  socket.on('error', onError);
  socket.on('close', onClose);
}

export const jsRelay: RelayPath = (client, upstream, context) => {
  const c = client as RelaySocket;
  const u = upstream as RelaySocket;
  const relay = new JsRelay(c, u, context);
  wire(c, u, relay, FIELD.BYTES_IN);
  wire(u, c, relay, FIELD.BYTES_OUT);
  // The client was accepted paused (pauseOnConnect) so nothing was read before the target
  // answered; the upstream may already hold bytes the target sent first.
  c.resume();
  u.resume();
  return relay;
};
