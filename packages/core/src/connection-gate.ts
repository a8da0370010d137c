// One shard's side of the edge's connection budget (connection-budget.ts) for the connections
// node:net accepts (the splice and JS paths). node:net cannot stop accepting on a listening
// socket: libuv accepts whatever is waiting as soon as it is readable. So a connection accepted
// while the edge holds `max_connections` is held here, unread and with no upstream, and started in
// arrival order as places free up. It costs one descriptor while it waits, and its client sees
// what a backlogged connection shows (a completed handshake, no answer yet). So that waiting
// connections cannot run the edge out of descriptors (libuv would then accept and close what
// waits, unseen, and the metrics listener would fail too), a shard holds at most the budget's
// waiting limit; one more is reset at once and counted. The native path never gets here: the
// addon stops accepting at the limit, and the kernel's backlog holds them.

import type { Socket } from 'node:net';
import type { ConnectionBudget } from './connection-budget.ts';

/** How often held connections look for a place freed on another shard (no message says so). */
const RECHECK_MS = 10;

interface Held {
  /** The rule it came in on (its connections are closed with it). */
  readonly rule: object;
  readonly socket: Socket;
  readonly start: (socket: Socket) => void;
  readonly onClose: () => void;
}

export class ConnectionGate {
  private readonly budget: ConnectionBudget;
  private readonly shard: number;
  private readonly held: Held[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(budget: ConnectionBudget, shard: number) {
    this.budget = budget;
    this.shard = shard;
  }

  /** Held connections waiting for a place now. */
  get waiting(): number {
    return this.held.length;
  }

  /**
   * A connection node:net accepted: started now if the edge has a place, else when one frees;
   * `refuse` when no more may wait.
   */
  admit(
    rule: object,
    socket: Socket,
    start: (socket: Socket) => void,
    refuse: (socket: Socket) => void,
  ): void {
    if (this.held.length === 0 && this.budget.take(this.shard)) {
      start(socket);
      return;
    }
    if (this.held.length >= this.budget.waitingLimit) {
      refuse(socket);
      return;
    }
    // A client that gives up while it waits is forgotten; its socket closes as any would.
    const onClose = (): void => {
      const at = this.held.findIndex((held) => held.socket === socket);
      if (at >= 0) this.held.splice(at, 1);
    };
    socket.on('error', ignore);
    socket.once('close', onClose);
    this.held.push({ rule, socket, start, onClose });
    this.timer ??= setInterval(() => this.startWaiting(), RECHECK_MS);
  }

  /** A connection that held a place on this shard ended (whichever path accepted it). */
  release(): void {
    this.budget.give(this.shard);
    this.startWaiting();
  }

  /** Resets the connections held for `rule` (its connections are being closed). */
  closeHeld(rule: object): void {
    for (let at = this.held.length - 1; at >= 0; at--) {
      const held = this.held[at]!;
      if (held.rule !== rule) continue;
      this.held.splice(at, 1);
      held.socket.resetAndDestroy();
    }
    if (this.held.length === 0) this.stopTimer();
  }

  private startWaiting(): void {
    while (this.held.length > 0 && this.budget.take(this.shard)) {
      const next = this.held.shift()!;
      next.socket.removeListener('close', next.onClose);
      next.socket.removeListener('error', ignore);
      next.start(next.socket);
    }
    if (this.held.length === 0) this.stopTimer();
  }

  private stopTimer(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}

function ignore(): void {}
