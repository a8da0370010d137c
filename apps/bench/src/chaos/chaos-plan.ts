// What one `./run chaos` does: how long it runs, against which store, how many rules carry the
// load, and how far apart the kills are. The defaults are issue 16's chaos run.

export type Victim = 'shard' | 'edge' | 'server' | 'postgres';

export interface ChaosPlan {
  readonly seconds: number;
  /** `postgres`: the server on a throwaway cluster, which is killed too; `sqlite`: its data dir's file. */
  readonly store: 'postgres' | 'sqlite';
  /** TCP rules on the one managed edge, each to an echo target; the load spreads over them. */
  readonly rules: number;
  /** Transfers in flight at once. */
  readonly lanes: number;
  /** Every Nth transfer is large (64 to 512 KiB) and compared by sha256; the rest by length. */
  readonly sampleEvery: number;
  /** A kill comes a random time between these after the system has recovered from the last. */
  readonly minGapSeconds: number;
  readonly maxGapSeconds: number;
  /** How long the system may take to come back after a kill before the run calls it lost. */
  readonly recoverSeconds: number;
  readonly seed: number;
}

export const DEFAULT_CHAOS: ChaosPlan = {
  seconds: 600,
  store: 'postgres',
  rules: 4,
  lanes: 16,
  sampleEvery: 20,
  minGapSeconds: 2,
  maxGapSeconds: 10,
  recoverSeconds: 60,
  seed: 1,
};

export function victims(plan: ChaosPlan): Victim[] {
  return plan.store === 'postgres' ? ['shard', 'edge', 'server', 'postgres'] : ['shard', 'edge', 'server'];
}

/**
 * The kill order: every victim once per round, each round shuffled, so a short run still kills
 * each kind and a long one kills them at random.
 */
export function killOrder(plan: ChaosPlan, random: () => number): () => Victim {
  let round: Victim[] = [];
  return () => {
    if (round.length === 0) {
      round = victims(plan);
      for (let i = round.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [round[i], round[j]] = [round[j]!, round[i]!];
      }
    }
    return round.pop()!;
  };
}
