// The timer a UDP rule (either path) ends idle flows on: at most every second, at least every
// quarter of the idle timeout.

const MAX_SWEEP_MS = 1_000;
const MIN_SWEEP_MS = 20;

export class IdleSweep {
  private readonly sweep: () => void;
  private timer: NodeJS.Timeout | null = null;
  private idleTimeoutMs = 0;

  constructor(sweep: () => void) {
    this.sweep = sweep;
  }

  /** Starts the timer, or restarts it when the idle timeout changed. */
  start(idleTimeoutMs: number): void {
    if (this.timer !== null && idleTimeoutMs === this.idleTimeoutMs) return;
    this.stop();
    this.idleTimeoutMs = idleTimeoutMs;
    const every = Math.min(MAX_SWEEP_MS, Math.max(MIN_SWEEP_MS, Math.floor(idleTimeoutMs / 4)));
    this.timer = setInterval(this.sweep, every);
    this.timer.unref();
  }

  /** Follows a rule update: restarts only a running timer whose idle timeout changed. */
  update(idleTimeoutMs: number): void {
    if (this.timer !== null) this.start(idleTimeoutMs);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
