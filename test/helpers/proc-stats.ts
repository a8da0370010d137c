// What the kernel says about a process: open file descriptors and resident memory (Linux /proc).
// Worker threads share their process's table and memory, so these cover every shard.

import { readdirSync, readFileSync } from 'node:fs';

export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (match === null) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}
