// The edge's descriptors against a baseline, kind by kind. Sockets and everything else (epoll,
// eventfd, files) must come back to the baseline; pipes may stay above it only by what the
// splice addon's pipe pools are allowed to keep, and tests bound that from how many pipes they
// could have had in use at once.

import { pollUntil } from '@sluice/test-kit';
import { type FdKinds, fdKinds } from './proc-stats.ts';

/** Empty pipes one shard's splice pool keeps for reuse (PipePool::kMaxPooled, packages/splice/src/pipe-pool.h). */
export const MAX_POOLED_PIPES_PER_SHARD = 64;

/** Descriptors the edge may hold beyond its baseline without a leak: a metrics scrape in flight, a timer. */
export const FD_SLACK = { sockets: 4, other: 8 } as const;

/**
 * Pipe ends (two per pipe) the pools of `shards` shards may hold above a baseline, when at most
 * `pipesAtOnce` pipes were ever in use at once on one shard: a pool only keeps pipes that were
 * given back, so it never outgrows the shard's peak use (nor MAX_POOLED_PIPES_PER_SHARD).
 */
export function poolAllowance(shards: number, pipesAtOnce: number): number {
  return shards * Math.min(pipesAtOnce, MAX_POOLED_PIPES_PER_SHARD) * 2;
}

export function describeFds(now: FdKinds, baseline: FdKinds): string {
  return (
    `sockets ${now.sockets} (baseline ${baseline.sockets}), pipe ends ${now.pipes} (baseline ${baseline.pipes}), ` +
    `other ${now.other} (baseline ${baseline.other}), total ${now.total} (baseline ${baseline.total})`
  );
}

/**
 * Polls until the process's sockets and other descriptors are back to `baseline` (+FD_SLACK) and
 * its pipe ends at most `pipeEnds` above it; returns what it saw then.
 */
export async function waitForFdBaseline(
  pid: number,
  baseline: FdKinds,
  pipeEnds: number,
  timeoutMs = 30_000,
): Promise<FdKinds> {
  let last = fdKinds(pid);
  try {
    return await pollUntil(
      () => {
        last = fdKinds(pid);
        return (
          last.sockets <= baseline.sockets + FD_SLACK.sockets &&
          last.other <= baseline.other + FD_SLACK.other &&
          last.pipes <= baseline.pipes + pipeEnds &&
          last
        );
      },
      { timeoutMs, intervalMs: 100, what: 'edge descriptors back to baseline' },
    );
  } catch (err) {
    throw new Error(
      `${(err as Error).message}: ${describeFds(last, baseline)}; allowed +${FD_SLACK.sockets} sockets, ` +
        `+${FD_SLACK.other} other, +${pipeEnds} pipe ends`,
    );
  }
}
