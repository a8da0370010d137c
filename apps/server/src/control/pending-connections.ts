// Control connections that have not yet authenticated: a TLS handshake under way, or a session
// that has not had its hello accepted. Each has a deadline from its TCP accept, and there are
// caps per source address and in total, so strangers cannot hold the server's sockets and memory
// by connecting and saying nothing, slowly, or half a ClientHello.

import type { Socket } from 'node:net';

/** Why a control connection was cut before it authenticated: the `reason` of the refused counter. */
export const PENDING_REFUSAL_REASONS = ['source_cap', 'total_cap', 'hello_timeout'] as const;
export type PendingRefusalReason = (typeof PENDING_REFUSAL_REASONS)[number];

export interface PendingLimits {
  /** From TCP accept to an accepted hello (or an answered enroll), at most this long. */
  readonly deadlineMs: number;
  /** Unauthenticated connections from one address at once. */
  readonly perSource: number;
  /** Unauthenticated connections at once, from everywhere. */
  readonly total: number;
}

// An edge needs one connection and a few round trips; a NATed site reconnecting after a server
// restart with jittered backoff is well inside 64, and 1024 handshakes in flight is far more than a healthy fleet makes.
export const DEFAULT_PENDING_LIMITS: PendingLimits = { deadlineMs: 10_000, perSource: 64, total: 1024 };

interface Pending {
  readonly socket: Socket;
  readonly source: string;
  readonly timer: NodeJS.Timeout;
}

/** `address:port` of a socket's peer: the same key for the TCP socket and the TLS socket over it. */
export function peerKey(socket: {
  remoteAddress?: string | undefined;
  remotePort?: number | undefined;
}): string {
  return `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
}

export class PendingConnections {
  private readonly byKey = new Map<string, Pending>();
  private readonly perSource = new Map<string, number>();
  private readonly limits: PendingLimits;
  private readonly onRefused: (reason: PendingRefusalReason, source: string) => void;

  constructor(limits: PendingLimits, onRefused: (reason: PendingRefusalReason, source: string) => void) {
    this.limits = limits;
    this.onRefused = onRefused;
  }

  get size(): number {
    return this.byKey.size;
  }

  /** A new TCP connection: tracked until it authenticates or closes, or destroyed at once when over a cap. */
  admit(socket: Socket): void {
    const source = socket.remoteAddress ?? '?';
    const fromSource = this.perSource.get(source) ?? 0;
    const refusal: PendingRefusalReason | null =
      fromSource >= this.limits.perSource
        ? 'source_cap'
        : this.byKey.size >= this.limits.total
          ? 'total_cap'
          : null;
    if (refusal !== null) {
      socket.destroy();
      this.onRefused(refusal, source);
      return;
    }
    const key = peerKey(socket);
    const timer = setTimeout(() => {
      this.settle(key);
      socket.destroy();
      this.onRefused('hello_timeout', source);
    }, this.limits.deadlineMs);
    timer.unref();
    this.byKey.set(key, { socket, source, timer });
    this.perSource.set(source, fromSource + 1);
    socket.once('close', () => this.settle(key));
  }

  /** The connection authenticated (or closed): it no longer counts, and its deadline is lifted. */
  settle(key: string): void {
    const pending = this.byKey.get(key);
    if (pending === undefined) return;
    clearTimeout(pending.timer);
    this.byKey.delete(key);
    const left = (this.perSource.get(pending.source) ?? 1) - 1;
    if (left > 0) this.perSource.set(pending.source, left);
    else this.perSource.delete(pending.source);
  }
}
