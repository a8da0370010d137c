// What the replicas bench measures, full or --quick.

export interface ReplicasPlan {
  readonly quick: boolean;
  /** (1) rules pushed one by one to the real edge through A, through B, and to the SQLite baseline. */
  readonly pushes: number;
  /** (2) SIGKILLs of replica A with the real edge on it. */
  readonly failovers: number;
  /** (2) rules the failover edge holds (its full push from B carries them). */
  readonly failoverRules: number;
  /** (3) simulated edges held by A, and rules on each. */
  readonly replayEdges: number;
  readonly replayRules: number;
  /** (4) simulated edges (one rule each) on one replica, on two, and on a SQLite server. */
  readonly loadEdges: number;
  /** (4) seconds idle before the first reading, and with every edge connected before the CPU window. */
  readonly warmSeconds: number;
  /** (4) the CPU window: user+sys seconds of each server over it. */
  readonly settleSeconds: number;
  /** Concurrent requests while enrolling and filling. */
  readonly concurrency: number;
  /** (5) how often pg_stat_activity is read under the push load. */
  readonly pgPollMs: number;
}

export const FULL_REPLICAS_PLAN: ReplicasPlan = {
  quick: false,
  pushes: 500,
  failovers: 5,
  failoverRules: 10,
  replayEdges: 10,
  replayRules: 1000,
  loadEdges: 1000,
  warmSeconds: 5,
  settleSeconds: 30,
  concurrency: 8,
  pgPollMs: 250,
};

/** A smoke run: every part once, small counts. */
export const QUICK_REPLICAS_PLAN: ReplicasPlan = {
  quick: true,
  pushes: 50,
  failovers: 1,
  failoverRules: 5,
  replayEdges: 2,
  replayRules: 50,
  loadEdges: 50,
  warmSeconds: 1,
  settleSeconds: 2,
  concurrency: 8,
  pgPollMs: 250,
};
