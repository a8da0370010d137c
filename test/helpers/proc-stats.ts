// What the kernel says about a process: open file descriptors and resident memory (Linux /proc).
// Worker threads share their process's table and memory, so these cover every shard.

import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** A process's descriptors by kind, from the /proc/PID/fd links (`socket:[ino]`, `pipe:[ino]`, ...). */
export interface FdKinds {
  readonly total: number;
  readonly sockets: number;
  /** Pipe ends (a pipe the splice pool holds counts twice: its read end and its write end). */
  readonly pipes: number;
  /** Everything else: epoll, eventfd, signalfd, files, /dev/null, ... */
  readonly other: number;
  /** The inodes of the pipes held, one entry per pipe (not per end). */
  readonly pipeInodes: ReadonlySet<string>;
}

export function fdKinds(pid: number): FdKinds {
  let sockets = 0;
  let pipes = 0;
  let other = 0;
  const pipeInodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let link: string;
    try {
      link = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch (err) {
      // Closed between the listing and the readlink.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    if (link.startsWith('socket:')) sockets++;
    else if (link.startsWith('pipe:')) {
      pipes++;
      pipeInodes.add(link);
    } else other++;
  }
  return { total: sockets + pipes + other, sockets, pipes, other, pipeInodes };
}

/** The soft RLIMIT_NOFILE of a process (what `ulimit -n` shows for it). */
export function openFilesLimit(pid: number | 'self'): number {
  const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
  const match = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(limits);
  if (match === null) throw new Error(`no "Max open files" in /proc/${pid}/limits`);
  return match[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(match[1]);
}

export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (match === null) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}
