// Bytes as a receiver sees them arrive: every 'data' event stamped on the monotonic clock, so a
// test can check the arithmetic of a bandwidth cap over every window of a transfer, and its rate
// over a stretch, without assuming anything about how fast the machine is.
//
// Stamping every event (rather than sampling a counter every 50 ms) loses nothing: bytes(t) only
// changes at events, so the pairs of events are exactly the windows worth checking.

import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/** `bytes` had arrived in all by `atMs` (performance.now()). */
export interface ByteMark {
  readonly atMs: number;
  readonly bytes: number;
}

export class ByteMeter {
  /** In time order; the first is the meter's start with 0 bytes. */
  readonly marks: ByteMark[];
  #bytes = 0;

  /** Start the meter before the transfer can begin: its first mark is the start of every window. */
  constructor() {
    this.marks = [{ atMs: performance.now(), bytes: 0 }];
  }

  get bytes(): number {
    return this.#bytes;
  }

  get first(): ByteMark {
    return this.marks[0]!;
  }

  get last(): ByteMark {
    return this.marks[this.marks.length - 1]!;
  }

  /** Counts what `socket` delivers from now on; several sockets may feed one meter (their sum). */
  watch(socket: Socket): void {
    socket.on('data', (chunk: Buffer) => this.add(chunk.length));
  }

  add(bytes: number): void {
    this.#bytes += bytes;
    this.marks.push({ atMs: performance.now(), bytes: this.#bytes });
  }

  /** The first mark by which at least `bytes` had arrived. */
  reached(bytes: number): ByteMark | undefined {
    return this.marks.find((mark) => mark.bytes >= bytes);
  }

  /** The last mark at or before `atMs` (the start mark if none came later). */
  at(atMs: number): ByteMark {
    let found = this.first;
    for (const mark of this.marks) {
      if (mark.atMs > atMs) break;
      found = mark;
    }
    return found;
  }

  /** Marks from `from` on (by time), for checks over one part of a transfer. */
  since(from: ByteMark): ByteMark[] {
    return this.marks.filter((mark) => mark.atMs >= from.atMs);
  }
}

/** Bytes per second between two marks. */
export function rateBetween(from: ByteMark, to: ByteMark): number {
  return ((to.bytes - from.bytes) * 1000) / (to.atMs - from.atMs);
}

export interface WorstWindow {
  /** bytes(to) - bytes(from) - (burst + rate x (to - from)): > 0 means the window broke the cap. */
  readonly excessBytes: number;
  readonly from: ByteMark;
  readonly to: ByteMark;
}

/**
 * The window (a pair of marks) that comes closest to breaking, or breaks, "at most `burstBytes` +
 * `bytesPerSec` x its length". Over all pairs i < j the worst is
 *   max_j [ (bytes_j - rate t_j) - min_{i<j} (bytes_i - rate t_i) ] - burst,
 * so one pass finds it.
 */
export function worstWindow(
  marks: readonly ByteMark[],
  bytesPerSec: number,
  burstBytes: number,
): WorstWindow {
  if (marks.length < 2) throw new Error('a window needs at least two marks');
  const level = (mark: ByteMark): number => mark.bytes - (bytesPerSec * mark.atMs) / 1000;
  let lowest = marks[0]!;
  let worst: WorstWindow | null = null;
  for (let j = 1; j < marks.length; j++) {
    const to = marks[j]!;
    const excessBytes = level(to) - level(lowest) - burstBytes;
    if (worst === null || excessBytes > worst.excessBytes) worst = { excessBytes, from: lowest, to };
    if (level(to) < level(lowest)) lowest = to;
  }
  return worst!;
}

/** A window for failure messages: "X bytes in Y ms from +Z ms". */
export function describeWindow(window: WorstWindow, start: ByteMark): string {
  const bytes = window.to.bytes - window.from.bytes;
  const ms = window.to.atMs - window.from.atMs;
  const from = window.from.atMs - start.atMs;
  const excess = Math.round(window.excessBytes);
  return `${bytes} bytes in ${ms.toFixed(1)} ms from +${from.toFixed(1)} ms (excess ${excess} bytes)`;
}

/** A bandwidth cap as the edge applies it: a rate, and a burst the bucket holds when full. */
export interface Cap {
  readonly bytesPerSec: number;
  readonly burstBytes: number;
}

/**
 * What a receiver may see beyond burst + rate x window with nothing wrong in the cap, per
 * connection:
 * - one relay unit (64 KiB): the JS path charges a chunk it read (at most 64 KiB, Node's read
 *   size) and holds it until its tokens are there, so a chunk partly paid for before a window
 *   can land in it whole; the splice path's grants are smaller (16 KiB once it is throttled);
 * - one loopback receive buffer (128 KiB, tcp_rmem's default size): bytes the edge sent before a
 *   window that this process reads only inside it (its event loop was busy) are stamped late,
 *   which makes that window look fuller than it was. That only shows while the bucket still
 *   holds most of its burst (after that, the burst term covers any lag), i.e. at the very start,
 *   and this allows the receiver to lag the edge by up to one default receive buffer there.
 */
export const CAP_SLACK_BYTES = 64 * 1024 + 128 * 1024;

/** How long after its burst a flow is surely at its cap (the bucket earned nothing back). */
export const STEADY_AFTER_BURST_MS = 250;

export interface CapCheck {
  /** The window closest to breaking the cap. */
  readonly worst: WorstWindow;
  /** From STEADY_AFTER_BURST_MS after the burst was in to the last mark: the steady part. */
  readonly steadyMs: number;
  /** The steady part's rate over the cap's rate (1 = exactly at the cap). */
  readonly steadyRatio: number;
  /** The numbers, for failure messages. */
  readonly summary: string;
}

/** How a whole metered transfer (marks from before its first byte to its last) kept to `cap`. */
export function checkCap(marks: readonly ByteMark[], cap: Cap): CapCheck {
  const start = marks[0]!;
  const end = marks[marks.length - 1]!;
  const worst = worstWindow(marks, cap.bytesPerSec, cap.burstBytes);
  // The burst goes through at once, but while it does the bucket earns tokens again, which
  // follow it just as fast: the steady part starts STEADY_AFTER_BURST_MS after the burst is in.
  const burstIn = marks.find((mark) => mark.bytes - start.bytes >= cap.burstBytes) ?? end;
  const afterBurst = marks.find((mark) => mark.atMs >= burstIn.atMs + STEADY_AFTER_BURST_MS) ?? end;
  const steadyMs = end.atMs - afterBurst.atMs;
  const steadyRatio = steadyMs > 0 ? rateBetween(afterBurst, end) / cap.bytesPerSec : Number.NaN;
  const summary =
    `cap ${cap.bytesPerSec} B/s + ${cap.burstBytes} B burst; ${end.bytes - start.bytes} bytes in ` +
    `${(end.atMs - start.atMs).toFixed(0)} ms over ${marks.length - 1} reads; worst window ` +
    `${describeWindow(worst, start)}; steady ${steadyMs.toFixed(0)} ms at ` +
    `${(steadyRatio * 100).toFixed(1)}% of the cap`;
  return { worst, steadyMs, steadyRatio, summary };
}
