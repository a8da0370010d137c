// Resident memory of a measured process and its descendants (HAProxy may fork workers; Node's
// worker threads live in the one process), read from /proc.

import { readdirSync, readFileSync } from 'node:fs';

/** VmRSS of one process in KiB, or null when it is gone. */
export function rssKiB(pid: number): number | null {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return match?.[1] !== undefined ? Number(match[1]) : null;
}

/** The parent pid from /proc/PID/stat; the name field may hold spaces and parentheses. */
function parentPid(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[1] !== undefined ? Number(fields[1]) : null;
  } catch {
    return null;
  }
}

/** `pid` and all its descendants that are alive now. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const child = Number(entry);
    const parent = parentPid(child);
    if (parent === null) continue;
    const list = children.get(parent) ?? [];
    list.push(child);
    children.set(parent, list);
  }
  const tree: number[] = [];
  const queue = [pid];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    tree.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return tree;
}

export interface TreeRss {
  readonly pids: readonly number[];
  readonly kib: number;
}

/** The command name of a process (/proc/PID/comm), or null when it is gone. */
export function processName(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return null;
  }
}

/** SIGKILLs each of `pids` still alive and still named `name` (pids we started, by id). */
export function killLeftovers(pids: readonly number[], name: string): void {
  for (const pid of pids) {
    if (processName(pid) !== name) continue;
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone in between.
    }
  }
}

/**
 * Summed PSS (proportional set size) of `pid` and its descendants, from smaps_rollup: shared
 * pages are split among the processes that map them, so a relay that forks a process per
 * connection (socat) is not charged its shared libraries once per child. null when `pid` is gone.
 */
export function treePssKiB(pid: number): TreePss | null {
  if (rssKiB(pid) === null) return null;
  const pids = processTree(pid);
  let kib = 0;
  let rss = 0;
  for (const p of pids) {
    kib += pssKiB(p) ?? 0;
    rss += rssKiB(p) ?? 0;
  }
  return { pids, kib, rssKiB: rss };
}

export interface TreePss extends TreeRss {
  /** The summed VmRSS of the same processes, for comparison. */
  readonly rssKiB: number;
}

/** Pss of one process in KiB (smaps_rollup), or null when it is gone or unreadable. */
export function pssKiB(pid: number): number | null {
  try {
    const match = /^Pss:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return match?.[1] !== undefined ? Number(match[1]) : null;
  } catch {
    return null;
  }
}
