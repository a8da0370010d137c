// The kernel's receive-buffer drops of node:dgram sockets (the JS UDP path; the addon reads its
// own sockets with SO_MEMINFO). node:dgram exposes neither the count nor the descriptor, so a
// socket is found by its inode in /proc/net/udp and /proc/net/udp6, whose last column is the
// socket's drop count (sk_drops: mostly datagrams that met a full receive buffer).

import type { Socket as DgramSocket } from 'node:dgram';
import { readFileSync, readlinkSync } from 'node:fs';

const TABLES = ['/proc/net/udp', '/proc/net/udp6'] as const;
// Columns of a /proc/net/udp line, split on whitespace.
const INODE_COLUMN = 9;
const DROPS_COLUMN = 12;

/**
 * The descriptor of a bound dgram socket. `_handle` would give it but is deprecated with a
 * runtime warning (DEP0112), so the handle is read from the socket's state; null if Node moves it.
 */
function descriptorOf(socket: DgramSocket): number | null {
  const key = Object.getOwnPropertySymbols(socket).find((symbol) => symbol.description === 'state symbol');
  if (key === undefined) return null;
  const state: unknown = (socket as unknown as Record<symbol, unknown>)[key];
  const handle: unknown =
    typeof state === 'object' && state !== null ? Reflect.get(state, 'handle') : undefined;
  const fd: unknown = typeof handle === 'object' && handle !== null ? Reflect.get(handle, 'fd') : undefined;
  return typeof fd === 'number' && fd >= 0 ? fd : null;
}

function inodeOf(socket: DgramSocket): string | null {
  const fd = descriptorOf(socket);
  if (fd === null) return null;
  try {
    return /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`))?.[1] ?? null;
  } catch {
    return null;
  }
}

/** Every UDP socket's drop count in this network namespace, by inode. */
function readDrops(): Map<string, number> {
  const drops = new Map<string, number>();
  for (const table of TABLES) {
    let text: string;
    try {
      text = readFileSync(table, 'latin1');
    } catch {
      continue; // no IPv6 on this host
    }
    for (const line of text.split('\n').slice(1)) {
      const columns = line.trim().split(/\s+/);
      if (columns.length <= DROPS_COLUMN) continue;
      drops.set(columns[INODE_COLUMN]!, Number(columns[DROPS_COLUMN]));
    }
  }
  return drops;
}

export class UdpKernelDrops {
  /** Per watched socket: its inode and its drop count when last read. */
  private readonly watched = new Map<DgramSocket, { readonly inode: string; drops: number }>();

  /** Counts the drops of a bound (or connected) socket from now on; false when it cannot be found. */
  watch(socket: DgramSocket): boolean {
    const inode = inodeOf(socket);
    if (inode === null) return false;
    this.watched.set(socket, { inode, drops: 0 });
    return true;
  }

  forget(socket: DgramSocket): void {
    this.watched.delete(socket);
  }

  /** The drops on the watched sockets since the last call. */
  take(): number {
    if (this.watched.size === 0) return 0;
    const now = readDrops();
    let fresh = 0;
    for (const entry of this.watched.values()) {
      const drops = now.get(entry.inode);
      if (drops === undefined || !Number.isSafeInteger(drops)) continue;
      // The kernel's count is 32 bits and may wrap.
      fresh += (drops - entry.drops) >>> 0;
      entry.drops = drops;
    }
    return fresh;
  }
}
