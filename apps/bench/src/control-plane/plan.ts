// What the control-plane bench measures, full or --quick, and the loopback ports the real edge's
// rules listen on.

import { readFileSync } from 'node:fs';
import { listeningTcpPorts } from '../ports.ts';

export interface ControlPlanePlan {
  readonly quick: boolean;
  /**
   * (a) how many rules the real edge holds when each run of timed pushes starts (ascending): the
   * edge is filled up to each level with untimed pushes, then `pushes` are timed one at a time.
   * (b) every rule pushed (the last level plus its timed pushes) is replayed to it.
   */
  readonly levels: readonly number[];
  /** (a) timed pushes at each level. */
  readonly pushes: number;
  /**
   * (a) untimed pushes before the first level, each rule removed again after: the first pushes
   * after a start run code V8 has not compiled yet, in the server and in the edge (the data-plane
   * scenarios warm up before they measure too). The first of them is the report's first push.
   */
  readonly warmup: number;
  /** Shards of the real edge. */
  readonly shards: number;
  /** (b) how often the edge's /metrics?format=json is polled while it replays. */
  readonly pollMs: number;
  /** (c) simulated edges, and the rules spread over them. */
  readonly edges: number;
  readonly rules: number;
  /** (c) concurrent POST /v1/rules while filling the simulated edges. */
  readonly pushConcurrency: number;
  /**
   * (c) how long the server runs with every edge and rule before its memory is read, sampled
   * every second (its RSS saws up and down with V8's major collections, about 80 s apart here).
   */
  readonly settleSeconds: number;
}

export const FULL_CONTROL_PLAN: ControlPlanePlan = {
  quick: false,
  levels: [1, 1000, 10_000],
  pushes: 200,
  warmup: 50,
  shards: 1,
  pollMs: 50,
  edges: 50,
  rules: 2000,
  pushConcurrency: 8,
  settleSeconds: 120,
};

/** (b) the rules the real edge holds at the end of (a), replayed to it. */
export function rulesHeldAtEnd(plan: Pick<ControlPlanePlan, 'levels' | 'pushes'>): number {
  return (plan.levels.at(-1) ?? 0) + plan.pushes;
}

/** A smoke run: every step once, small counts, one stats round during the settle. */
export const QUICK_CONTROL_PLAN: ControlPlanePlan = {
  quick: true,
  levels: [1, 100],
  pushes: 50,
  warmup: 20,
  shards: 1,
  pollMs: 50,
  edges: 10,
  rules: 100,
  pushConcurrency: 8,
  settleSeconds: 6,
};

/** The low end of the kernel's ephemeral port range (outgoing connections take ports from it). */
export function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > 1024) return low;
  } catch {
    // Not Linux: the IANA range's start.
  }
  return 49152;
}

/**
 * Loopback ports for the real edge's rules: upwards from `start`, below the ephemeral range (so
 * no outgoing connection, the bench's own API requests included, holds one), skipping every port
 * something listens on when the source is made. `next()` throws when the range runs out.
 */
export class PortSource {
  readonly #taken: Set<number>;
  readonly #end: number;
  #next: number;

  constructor(start = 20_000, end = ephemeralLow(), taken: Set<number> = listeningTcpPorts()) {
    this.#next = start;
    this.#end = end;
    this.#taken = taken;
  }

  next(): number {
    while (this.#next < this.#end) {
      const port = this.#next++;
      if (!this.#taken.has(port)) return port;
    }
    throw new RangeError(`no free loopback port left below ${this.#end}`);
  }
}
