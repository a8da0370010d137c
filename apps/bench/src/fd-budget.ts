// How many relayed connections fit in one process's file descriptors. A user-space relay holds
// two per connection (client side and target side); the limit here is RLIMIT_NOFILE, which the
// bench's children inherit and which an unprivileged run (or a container) cannot raise past the
// hard limit. Scenarios that open thousands of connections ask here instead of failing midway.

import { readFileSync } from 'node:fs';

/** Descriptors a relay needs besides its connections: listeners, pipes, epoll, stdio, libraries. */
export const FD_RESERVE = 300;
/** Each relayed connection holds a client-side and a target-side socket. */
export const FDS_PER_RELAYED_CONNECTION = 2;

export interface OpenFileLimit {
  readonly soft: number;
  readonly hard: number;
}

/** RLIMIT_NOFILE of this process (children inherit it), from /proc/self/limits; null if unreadable. */
export function openFileLimit(): OpenFileLimit | null {
  try {
    const match = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)\s/m.exec(
      readFileSync('/proc/self/limits', 'utf8'),
    );
    if (match?.[1] === undefined || match[2] === undefined) return null;
    const value = (text: string): number => (text === 'unlimited' ? Number.POSITIVE_INFINITY : Number(text));
    return { soft: value(match[1]), hard: value(match[2]) };
  } catch {
    return null;
  }
}

/** The most relayed connections one relay process can hold under `limit` descriptors. */
export function relayedConnectionCap(limit: number): number {
  if (!Number.isFinite(limit)) return Number.MAX_SAFE_INTEGER;
  return Math.max(0, Math.floor((limit - FD_RESERVE) / FDS_PER_RELAYED_CONNECTION));
}

/**
 * The connection limit every relay that has one is given, the same for all (HAProxy's maxconn,
 * sluice's max_connections): as many as the descriptor limit lets a relay hold, since
 * idle-memory opens up to that.
 */
export function relayMaxConnections(): number {
  const limit = openFileLimit();
  return Math.min(100_000, limit === null ? 9000 : relayedConnectionCap(limit.soft));
}
