// What one `./run soak` does: how many connections it holds at once, how many it churns, how many
// UDP flows it opens, and on which relay path. The defaults are issue 16's full soak.

import { BENCH_ERRORS } from '../errors.ts';
import { FD_RESERVE, openFileLimit } from '../fd-budget.ts';

export interface SoakPlan {
  /** Connections held open at once through the edge. */
  readonly concurrent: number;
  /** Connections made, used for one verified transfer and closed, one after another. */
  readonly churn: number;
  /** Transfers in flight at once during the churn. */
  readonly lanes: number;
  /** Every Nth churned transfer is large and compared by sha256; the rest by length. */
  readonly sampleEvery: number;
  /** Seconds the concurrent connections are held before they are used once more and closed. */
  readonly holdSeconds: number;
  /** UDP flows, each its own client socket, and the datagrams each sends. */
  readonly flows: number;
  readonly datagramsPerFlow: number;
  readonly shards: number;
  readonly relay: 'splice' | 'js';
  /** How long the edge may take to return to its baseline after the load. */
  readonly settleSeconds: number;
}

export const FULL_SOAK: SoakPlan = {
  concurrent: 9000,
  churn: 1_000_000,
  lanes: 64,
  sampleEvery: 100,
  holdSeconds: 30,
  flows: 2000,
  datagramsPerFlow: 20,
  shards: 2,
  relay: 'splice',
  settleSeconds: 60,
};

/** PipePool::kMaxPooled in packages/splice/src/pipe-pool.h: the empty pipes a shard keeps. */
const PIPES_POOLED_PER_SHARD = 64;

/** Descriptors the edge's splice pipe pools may keep once idle: two per pipe, per shard. */
export function pooledPipeFds(plan: SoakPlan): number {
  return plan.relay === 'splice' ? 2 * PIPES_POOLED_PER_SHARD * plan.shards : 0;
}

/** The UDP rule's idle timeout: short, so that the flows' return to zero is seen quickly. */
export const SOAK_UDP_IDLE_SECS = 2;

/**
 * The edge's max_connections for a plan: room for the held connections and the churn's lanes,
 * within what its descriptor limit allows at two per connection (which the edge itself checks).
 */
export function soakMaxConnections(plan: SoakPlan): number {
  const wanted = plan.concurrent + plan.lanes + 100;
  const limit = openFileLimit();
  if (limit !== null && Number.isFinite(limit.hard)) {
    const fits = Math.floor((limit.hard - FD_RESERVE) / 2);
    if (plan.concurrent + plan.lanes > fits) {
      throw BENCH_ERRORS.error('bad_flag', {
        flag: '--concurrent',
        reason: `${plan.concurrent} held connections need ${2 * (plan.concurrent + plan.lanes) + FD_RESERVE} descriptors in the edge, and its hard limit (ulimit -Hn) is ${limit.hard}`,
      });
    }
    return Math.min(wanted, fits);
  }
  return wanted;
}
