// How often a UDP rule looks for idle flows, on either path.

/** The idle sweep runs this often at most, and at least every quarter of the idle timeout. */
const MAX_SWEEP_MS = 1_000;
const MIN_SWEEP_MS = 20;

export function udpSweepEveryMs(idleTimeoutMs: number): number {
  return Math.min(MAX_SWEEP_MS, Math.max(MIN_SWEEP_MS, Math.floor(idleTimeoutMs / 4)));
}
