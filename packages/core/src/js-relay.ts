// The JavaScript relay: moves bytes between two connected sockets with
// - backpressure: a direction pauses its reader when the writer's buffer passes its high-water
//   mark, so a slow reader holds the edge to one read chunk plus that mark per direction;
// - half-close: one side's FIN becomes end() (shutdown(SHUT_WR)) on the other while the other
//   direction keeps flowing;
// - reset propagation: a reset on one side resets the other, as the kernel's own path would;
// - a half-closed pair that stays silent, with no byte waiting to be written, is reset after
//   halfCloseTimeoutMs (never closed with a FIN: its open direction did not end);
// - monthly quotas: a chunk is taken from the owner's quota before it is counted; a chunk the
//   quota cannot cover is not sent: reading stops, what was counted is written out, and the
//   pair is reset;
// - bandwidth caps: a chunk read on a capped direction is charged to the owner's and the rule's
//   buckets; when they are in debt the chunk is held (reader paused) until they are not, so the
//   peer sees TCP backpressure, no byte is dropped, and at most one chunk per direction waits.
// Listeners are shared functions that find their state through the socket, not per-connection
// closures: an idle relayed connection should cost as little heap as possible.

import type { Socket } from 'node:net';
import { FIELD, rejectField } from '@sluice/counters';
import { type BandwidthField, monotonicNs, QOS_FIELD } from '@sluice/qos';
import { relayErrorReason } from './errno-reasons.ts';
import type { RelayContext, RelayFailure, RelayHandle, RelayPath } from './relay-path.ts';

const PEER = Symbol('sluice.peer');
const RELAY = Symbol('sluice.relay');
const FIELD_OF = Symbol('sluice.field');
const HELD = Symbol('sluice.held');

/** A chunk read on a capped direction and held until its buckets allow it through. */
interface Held {
  readonly chunk: Buffer;
  readonly since: bigint;
  readonly timer: NodeJS.Timeout;
  /** The source ended while the chunk waited: pass the FIN on after it. */
  ended: boolean;
}

interface RelaySocket extends Socket {
  [PEER]: RelaySocket;
  [RELAY]: JsRelay;
  [FIELD_OF]: number;
  [HELD]: Held | null;
}

const NS_PER_MS = 1_000_000n;
/** After the quota ran out: how often to look whether what was read is written, and for how long. */
const QUOTA_DRAIN_POLL_MS = 5;
const QUOTA_DRAIN_MS = 2_000;
const QUOTA_KERNEL_GRACE_MS = 50;

class JsRelay implements RelayHandle {
  readonly client: RelaySocket;
  readonly upstream: RelaySocket;
  readonly context: RelayContext;
  private openSockets = 2;
  /** The quota ran out and the pair is being cut (quotaSpent). */
  private cutting = false;
  private halfClosed = false;
  /** The first side that failed, as the splice path reports it. */
  private failure: RelayFailure | null = null;

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

  /**
   * The owner's quota ran out: nothing more is read; what was read and counted is written out,
   * then both sides are reset (as the splice path does), and the cut is counted once.
   */
  quotaSpent(): void {
    if (this.cutting) return;
    this.cutting = true;
    this.context.counters.add(this.context.row, rejectField('quota_exhausted'), 1);
    this.client.pause();
    this.upstream.pause();
    const started = Date.now();
    const check = (): void => {
      if (this.client.destroyed && this.upstream.destroyed) return;
      if (this.inFlight() && Date.now() - started < QUOTA_DRAIN_MS) {
        setTimeout(check, QUOTA_DRAIN_POLL_MS);
        return;
      }
      // The kernel's send queues cannot be seen from here (the splice path waits on them): a
      // grace lets them empty on a near reader; a far one may lose what they still hold.
      setTimeout(() => this.destroy(), QUOTA_KERNEL_GRACE_MS);
    };
    check();
  }

  startHalfCloseTimer(): void {
    if (this.halfClosed) return;
    this.halfClosed = true;
    // Socket timeouts count inactivity in both directions of each socket, which is exactly
    // "the remaining direction stays silent".
    this.client.setTimeout(this.context.halfCloseTimeoutMs, onTimeout);
    this.upstream.setTimeout(this.context.halfCloseTimeoutMs, onTimeout);
  }

  socketFailed(socket: RelaySocket, err: NodeJS.ErrnoException): void {
    const errno = err.code ?? 'EUNKNOWN';
    this.fail({ reason: relayErrorReason(socket === this.client ? 'client' : 'upstream', errno), errno });
  }

  /** Bytes read from one side wait to be written to the other (in JS, or held for tokens). */
  inFlight(): boolean {
    const { client, upstream } = this;
    return (
      client.writableLength > 0 ||
      upstream.writableLength > 0 ||
      client[HELD] !== null ||
      upstream[HELD] !== null
    );
  }

  /** The half-close idle timeout cuts the pair: a reset both ways, reported as idle_timeout. */
  timedOut(): void {
    this.fail({ reason: 'idle_timeout', errno: 'ETIMEDOUT' });
    this.destroy();
  }

  private fail(failure: RelayFailure): void {
    if (this.failure === null) this.failure = failure;
  }

  socketClosed(): void {
    this.openSockets--;
    if (this.openSockets === 0) this.context.onClose(this.failure);
  }
}

function qosFieldOf(socket: RelaySocket): BandwidthField {
  return socket[FIELD_OF] === FIELD.BYTES_IN ? QOS_FIELD.BANDWIDTH_IN : QOS_FIELD.BANDWIDTH_OUT;
}

function onData(this: RelaySocket, chunk: Buffer): void {
  const context = this[RELAY].context;
  const allowed = context.qos.takeQuota(context.qosOwner, chunk.length);
  if (allowed < chunk.length) {
    // The owner's quota ends inside this chunk: what it covers goes, then the pair is cut.
    if (allowed > 0) {
      context.counters.add(context.row, this[FIELD_OF], allowed);
      this[PEER].write(chunk.subarray(0, allowed));
    }
    this[RELAY].quotaSpent();
    return;
  }
  context.counters.add(context.row, this[FIELD_OF], chunk.length);
  const field = qosFieldOf(this);
  if (context.qos.bandwidthCapped(context.qosOwner, context.qosRule, field)) {
    const waitNs = context.qos.chargeBytes(context.qosOwner, context.qosRule, field, chunk.length);
    if (waitNs > 0n) {
      hold(this, chunk, waitNs);
      return;
    }
  }
  if (!this[PEER].write(chunk)) this.pause();
}

function hold(socket: RelaySocket, chunk: Buffer, waitNs: bigint): void {
  socket.pause();
  // Timers count whole milliseconds; rounding up never lets a chunk out early.
  const ms = Number((waitNs + NS_PER_MS - 1n) / NS_PER_MS);
  socket[HELD] = { chunk, since: monotonicNs(), timer: setTimeout(releaseHeld, ms, socket), ended: false };
}

function releaseHeld(socket: RelaySocket): void {
  const held = socket[HELD];
  if (held === null) return;
  socket[HELD] = null;
  const context = socket[RELAY].context;
  const throttled = socket[FIELD_OF] === FIELD.BYTES_IN ? FIELD.THROTTLED_NS_IN : FIELD.THROTTLED_NS_OUT;
  context.counters.add(context.row, throttled, Number(monotonicNs() - held.since));
  const peer = socket[PEER];
  if (peer.destroyed) return;
  const flowing = peer.write(held.chunk);
  if (held.ended) {
    peer.end();
    socket[RELAY].startHalfCloseTimer();
  } else if (flowing) {
    socket.resume();
  }
  // Otherwise the peer's 'drain' resumes this socket.
}

function onDrain(this: RelaySocket): void {
  // A source holding a throttled chunk resumes when its timer lets the chunk go, not before.
  if (this[PEER][HELD] === null) this[PEER].resume();
}

function onEnd(this: RelaySocket): void {
  const held = this[HELD];
  if (held !== null) {
    held.ended = true;
    return;
  }
  this[PEER].end();
  this[RELAY].startHalfCloseTimer();
}

function onError(this: RelaySocket, err: NodeJS.ErrnoException): void {
  this[RELAY].socketFailed(this, err);
  // A reset (or any error) on one side resets the other instead of closing it politely.
  const peer = this[PEER];
  if (!peer.destroyed) peer.resetAndDestroy();
}

function onClose(this: RelaySocket): void {
  const peer = this[PEER];
  const held = this[HELD];
  if (held !== null) {
    if (peer.destroyed) {
      clearTimeout(held.timer);
      this[HELD] = null;
    } else {
      // Closed cleanly with a chunk still held: it goes out when its time comes, then the FIN.
      held.ended = true;
    }
  } else if (!peer.destroyed) {
    // A socket closes cleanly only once both its directions ended; the peer then has nothing
    // left to send but may still be flushing, so it gets end() rather than destroy().
    peer.end();
    this[RELAY].startHalfCloseTimer();
  }
  this[RELAY].socketClosed();
}

function onTimeout(this: RelaySocket): void {
  const relay = this[RELAY];
  // A socket paused for a slow reader is quiet but not idle: wait another round while bytes
  // are still queued for that reader.
  if (relay.inFlight()) {
    this.setTimeout(relay.context.halfCloseTimeoutMs);
    return;
  }
  // One direction ended and the other stayed silent: it did not end, so its reader must not
  // see a FIN that would pass for the end of a complete stream.
  relay.timedOut();
}

function wire(socket: RelaySocket, peer: RelaySocket, relay: JsRelay, field: number): void {
  socket[PEER] = peer;
  socket[RELAY] = relay;
  socket[FIELD_OF] = field;
  socket[HELD] = null;
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
  // A socket read before the relay (a PROXY header, a ClientHello) may have ended already: its
  // 'end' fired with no one listening, and must still become a FIN on the other side.
  if (c.readableEnded) onEnd.call(c);
  if (u.readableEnded) onEnd.call(u);
  return relay;
};
