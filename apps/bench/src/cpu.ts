// CPU time of a measured process and its descendants, read from /proc/PID/stat: utime and stime
// cover every thread of the process, the live ones and those that have exited (a Node process's
// worker threads, sluice's shards, among them).

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { processTree } from './rss.ts';

let ticks: number | null = null;

/** Clock ticks per second of utime/stime (`getconf CLK_TCK`; 100 on Linux when it cannot say). */
export function clockTicksPerSecond(): number {
  if (ticks === null) {
    const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const n = Number(out.stdout?.trim());
    ticks = out.status === 0 && Number.isInteger(n) && n > 0 ? n : 100;
  }
  return ticks;
}

export interface CpuTicks {
  readonly user: number;
  readonly system: number;
}

/** utime and stime of one process (all its threads), in clock ticks; null when it is gone. */
export function cpuTicks(pid: number): CpuTicks | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // After the name (which may hold spaces and parentheses): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const user = Number(fields[11]);
  const system = Number(fields[12]);
  return Number.isFinite(user) && Number.isFinite(system) ? { user, system } : null;
}

export interface CpuSample {
  /** performance.now() when read, milliseconds. */
  readonly atMs: number;
  /** The pids read: `pid` and its descendants alive at the time. */
  readonly pids: readonly number[];
  /** Summed over those pids, clock ticks (`clockTicksPerSecond()` a second). */
  readonly userTicks: number;
  readonly systemTicks: number;
}

/** The CPU time `pid` and its live descendants have used so far; null when `pid` is gone. */
export function sampleTreeCpu(pid: number): CpuSample | null {
  if (cpuTicks(pid) === null) return null;
  // The tree first (a walk over /proc), so the time is taken next to the readings.
  const pids = processTree(pid);
  const atMs = performance.now();
  let user = 0;
  let system = 0;
  for (const p of pids) {
    const t = cpuTicks(p);
    if (t === null) continue;
    user += t.user;
    system += t.system;
  }
  return { atMs, pids, userTicks: user, systemTicks: system };
}

/** CPU used between two samples of the same process tree. */
export interface CpuWindow {
  /** Wall-clock seconds between the samples. */
  readonly wallSeconds: number;
  readonly userSeconds: number;
  readonly systemSeconds: number;
  /** user + system over wall, percent of one core. */
  readonly percentOfCore: number;
  readonly pids: readonly number[];
}

export function cpuWindow(from: CpuSample, to: CpuSample): CpuWindow | null {
  const wallSeconds = (to.atMs - from.atMs) / 1000;
  if (!(wallSeconds > 0)) return null;
  const hz = clockTicksPerSecond();
  // A descendant that exits between the samples takes its ticks along: never below zero.
  const userSeconds = Math.max(0, to.userTicks - from.userTicks) / hz;
  const systemSeconds = Math.max(0, to.systemTicks - from.systemTicks) / hz;
  return {
    wallSeconds,
    userSeconds,
    systemSeconds,
    percentOfCore: ((userSeconds + systemSeconds) / wallSeconds) * 100,
    pids: [...new Set([...from.pids, ...to.pids])],
  };
}
