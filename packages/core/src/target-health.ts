// Which of a rule's targets are worth trying, and in what order, as one shard sees them. A target
// goes down after 3 failed connects within 30 s with no success between them, and comes back
// after 2 successes in a row: from the optional active probe, or from connections that tried it
// anyway (down targets still come last in every order, and when all are down the first is tried
// first). State is per rule per shard: each shard learns from its own connections.

import type { Balance } from '@sluice/config';

export const TARGET_DOWN_AFTER_FAILURES = 3;
export const TARGET_FAILURE_WINDOW_MS = 30_000;
export const TARGET_UP_AFTER_SUCCESSES = 2;

/**
 * One health check of target `index`: true when it accepted a connection, false when it did not,
 * null when this host could not try (out of descriptors): no verdict, the state stays.
 */
export type TargetProbe = (index: number) => Promise<boolean | null>;

export interface TargetHealthOptions {
  /** Milliseconds; the clock the failure window is measured on. */
  now?: () => number;
  /** Called when a target goes down or comes back (the `sluice_target_up` gauge). */
  onChange?: (index: number, up: boolean) => void;
}

interface TargetState {
  up: boolean;
  /** While up: times of failures since the last success, the oldest first (at most 3). */
  readonly failures: number[];
  /** While down: successes in a row. */
  successes: number;
  /** A probe of this target has not answered yet (at most one at a time). */
  probing: boolean;
}

export class TargetHealth {
  readonly count: number;
  private readonly targets: TargetState[];
  private readonly now: () => number;
  private readonly onChange: ((index: number, up: boolean) => void) | null;
  /** Round-robin: the target index the next rotation starts looking at. */
  private cursor = 0;
  private probeTimer: NodeJS.Timeout | null = null;
  /** Bumped by stop(), so probes still out when it is called do not count. */
  private probeGeneration = 0;

  constructor(count: number, options: TargetHealthOptions = {}) {
    this.count = count;
    this.now = options.now ?? Date.now;
    this.onChange = options.onChange ?? null;
    this.targets = Array.from({ length: count }, () => ({
      up: true,
      failures: [],
      successes: 0,
      probing: false,
    }));
  }

  /**
   * The target indices one new connection tries, in order: the healthy ones first (in configured
   * order for `failover`, rotating for `round-robin`), then the down ones in configured order.
   */
  order(balance: Balance): number[] {
    const up: number[] = [];
    const down: number[] = [];
    if (balance === 'round-robin') {
      // Walk from the cursor so the rotation skips down targets and picks them up again where
      // they sit once they are back, rather than shifting everyone's turn.
      for (let k = 0; k < this.count; k++) {
        const index = (this.cursor + k) % this.count;
        if (this.targets[index]!.up) up.push(index);
      }
      if (up.length > 0) this.cursor = (up[0]! + 1) % this.count;
      for (let index = 0; index < this.count; index++) if (!this.targets[index]!.up) down.push(index);
    } else {
      for (let index = 0; index < this.count; index++) (this.targets[index]!.up ? up : down).push(index);
    }
    return up.concat(down);
  }

  recordFailure(index: number): void {
    const target = this.target(index);
    if (!target.up) {
      target.successes = 0;
      return;
    }
    const now = this.now();
    const failures = target.failures;
    while (failures.length > 0 && now - failures[0]! > TARGET_FAILURE_WINDOW_MS) failures.shift();
    failures.push(now);
    if (failures.length >= TARGET_DOWN_AFTER_FAILURES) {
      target.up = false;
      failures.length = 0;
      target.successes = 0;
      this.onChange?.(index, false);
    }
  }

  recordSuccess(index: number): void {
    const target = this.target(index);
    if (target.up) {
      // A success breaks the run: at a high connection rate a few scattered failures among
      // thousands of good connects must not take a target out.
      target.failures.length = 0;
      return;
    }
    target.successes++;
    if (target.successes >= TARGET_UP_AFTER_SUCCESSES) {
      target.up = true;
      target.successes = 0;
      this.onChange?.(index, true);
    }
  }

  isUp(index: number): boolean {
    return this.target(index).up;
  }

  /** Up (true) or down per target index, for the `sluice_target_up{target}` gauge. */
  states(): boolean[] {
    return this.targets.map((target) => target.up);
  }

  /**
   * Every `intervalMs`, probes each down target (at most one probe per target out at a time);
   * a true result counts as a success, false (or a rejection) as a failure. Up targets are not
   * probed: connections tell us about them. Replaces any probing already running.
   */
  startProbing(intervalMs: number, probe: TargetProbe): void {
    this.stop();
    const generation = this.probeGeneration;
    const tick = (): void => {
      for (let index = 0; index < this.count; index++) {
        const target = this.targets[index]!;
        if (target.up || target.probing) continue;
        target.probing = true;
        const settle = (ok: boolean | null): void => {
          target.probing = false;
          if (generation !== this.probeGeneration || ok === null) return;
          if (ok) this.recordSuccess(index);
          else this.recordFailure(index);
        };
        probe(index).then(settle, () => settle(false));
      }
    };
    this.probeTimer = setInterval(tick, intervalMs);
    // Health checks alone must not keep a shard alive.
    this.probeTimer.unref();
  }

  stop(): void {
    this.probeGeneration++;
    if (this.probeTimer !== null) clearInterval(this.probeTimer);
    this.probeTimer = null;
  }

  private target(index: number): TargetState {
    const target = this.targets[index];
    if (target === undefined)
      throw new RangeError(`target index ${index} is out of range 0..${this.count - 1}`);
    return target;
  }
}
