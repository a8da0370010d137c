// The edge's descriptor limit (RLIMIT_NOFILE) and the connection limit it implies.
//
// Node raises the soft limit to the hard one itself when it starts (PlatformInit in node.cc), so
// by the time the edge runs, soft == hard unless an embedder switched that off; the edge only
// reads the limit, from /proc/self/limits (Node has no getrlimit). Where there is no /proc
// (not Linux), the limit is unknown and the edge sets no connection limit of its own.

import { readFileSync } from 'node:fs';
import { EDGE_ERRORS } from './errors.ts';

export interface DescriptorLimit {
  /** The soft limit: what the process may open. null: unknown, or unlimited. */
  readonly soft: number | null;
  readonly hard: number | null;
}

/**
 * Descriptors one relayed connection is budgeted: its two sockets, and a pipe pair while its
 * bytes are in flight on the splice path (one direction's; an idle connection holds none).
 */
export const DESCRIPTORS_PER_CONNECTION = 4;

/** Parses the "Max open files" row of /proc/PID/limits: soft and hard, numbers or "unlimited". */
export function parseDescriptorLimit(limits: string): DescriptorLimit {
  const row = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
  const value = (text: string | undefined): number | null => {
    const n = Number(text);
    return Number.isSafeInteger(n) && n > 0 ? n : null;
  };
  return { soft: value(row?.[1]), hard: value(row?.[2]) };
}

export function readDescriptorLimit(): DescriptorLimit {
  try {
    return parseDescriptorLimit(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return { soft: null, hard: null };
  }
}

/**
 * The connection limit an edge without `max_connections` takes: a quarter of the soft descriptor
 * limit (DESCRIPTORS_PER_CONNECTION each), at least 1; 0 (no limit) when the limit is unknown.
 */
export function defaultMaxConnections(limit: DescriptorLimit): number {
  if (limit.soft === null) return 0;
  return Math.max(1, Math.floor(limit.soft / DESCRIPTORS_PER_CONNECTION));
}

/**
 * The connection limit the edge runs with: `configured` (max_connections, --max-connections) or
 * the default. A configured limit the descriptor limit cannot hold even at two descriptors per
 * connection is refused (`where` names the file or the flag): the edge would run out of
 * descriptors before it reached it, which is what the limit is there to prevent.
 */
export function maxConnections(configured: number | null, limit: DescriptorLimit, where: string): number {
  if (configured === null) return defaultMaxConnections(limit);
  const needed = 2 * configured;
  if (limit.soft !== null && needed > limit.soft) {
    throw EDGE_ERRORS.error('max_connections_over_limit', {
      where,
      max: configured,
      needed,
      limit: limit.soft,
    });
  }
  return configured;
}

/**
 * How many connections over `max` the node:net paths may hold unread while they wait for a place
 * (a descriptor each): half of what the limit leaves beside `max` connections' two sockets, the
 * other half staying for pipes, listeners and the edge's own. With the default `max` that is as
 * many again as `max`. Unknown limit: as many as `max`.
 */
export function maxWaiting(max: number, limit: DescriptorLimit): number {
  if (limit.soft === null) return max;
  return Math.max(0, Math.floor((limit.soft - 2 * max) / 2));
}
