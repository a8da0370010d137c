// How much pipe buffer one relay thread may hold. The kernel counts every pipe page a user
// holds, across all of that user's processes; past /proc/sys/fs/pipe-user-pages-soft, an
// unprivileged user's new pipes get two pages and can no longer be enlarged. An edge that runs as
// its own user (the systemd units do) would cross it with 64 pooled pipes of 1 MiB in one shard,
// and every pipe after that would move 8 KiB per splice. So each shard gets a share of the budget,
// and the addon sizes its pipes and its pool to that share (pipe-pool.cc).

import { readFileSync } from 'node:fs';

/** CAP_SYS_ADMIN and CAP_SYS_RESOURCE: either one exempts a process from the per-user limit. */
const EXEMPT_CAPABILITIES = (1n << 21n) | (1n << 24n);

/** The part of the soft limit the edge's shards share; the rest is left to the user's other pipes. */
const SHARE = 3n;
const OF = 4n;

export interface PipeBudgetSource {
  /** /proc/sys/fs/pipe-user-pages-soft, as read. */
  readonly softLimit: string;
  /** /proc/self/status, as read (for CapEff). */
  readonly status: string;
}

function readSource(): PipeBudgetSource | null {
  try {
    return {
      softLimit: readFileSync('/proc/sys/fs/pipe-user-pages-soft', 'utf8'),
      status: readFileSync('/proc/self/status', 'utf8'),
    };
  } catch {
    return null; // no procfs: nothing to size to, as before the budget existed
  }
}

/**
 * Pages of pipe buffer each of `threads` relay threads may hold; 0 for no limit (the process is
 * exempt, the soft limit is 0, or procfs cannot tell).
 */
export function pipeBudgetPages(threads: number, source: PipeBudgetSource | null = readSource()): number {
  if (source === null) return 0;
  const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(source.status)?.[1];
  if (capEff !== undefined && (BigInt(`0x${capEff}`) & EXEMPT_CAPABILITIES) !== 0n) return 0;
  const soft = /^\d+$/.exec(source.softLimit.trim())?.[0];
  if (soft === undefined || soft === '0') return 0;
  const pages = (BigInt(soft) * SHARE) / OF / BigInt(Math.max(1, threads));
  return Math.max(1, Number(pages));
}
