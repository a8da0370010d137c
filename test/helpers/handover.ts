// What the hand-over tests share: the old edge's own exit (its log stream stays open while the
// successor it started writes to it), the successor's pid from the log, and a launcher script
// as the release's bin/sluice-edge is one.

import type { ChildProcess } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withTimeout } from '@sluice/test-kit';
import { deferCleanup } from './cleanup.ts';
import { EDGE_MAIN, type EdgeProcess } from './edge-process.ts';

export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** The process's own exit: not LogProcess.exited, which waits for a stream the successor shares. */
export function processExit(child: ChildProcess, timeoutMs: number): Promise<ProcessExit> {
  const now =
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve({ code: child.exitCode, signal: child.signalCode })
      : new Promise<ProcessExit>((resolve) =>
          child.once('exit', (code, signal) => resolve({ code, signal })),
        );
  return withTimeout(now, timeoutMs, `pid ${child.pid} to exit`);
}

/** Waits for the successor's "took over" line; the successor is SIGKILLed at cleanup. */
export async function successorOf(edge: EdgeProcess, from: number, timeoutMs = 30_000): Promise<number> {
  const started = await edge.waitForMsg('hand-over: successor started', { pid: edge.pid }, timeoutMs, from);
  const pid = started.successor_pid as number;
  deferCleanup(() => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  });
  const outcome = await edge.waitForLog(
    (log) =>
      (log.msg === 'hand-over: took over' && log.pid === pid) ||
      (log.msg === 'hand-over failed: this edge keeps serving' && log.successor_pid === pid),
    timeoutMs,
    from,
  );
  if (outcome.msg !== 'hand-over: took over') {
    throw new Error(`the hand-over failed: ${String(outcome.reason)}\n${edge.describe()}`);
  }
  return pid;
}

/** A launcher as the release has one: a shell script that execs the edge with its arguments. */
export function writeLauncher(dir: string): string {
  const file = join(dir, 'sluice-edge');
  writeFileSync(file, `#!/bin/sh\nexec '${process.execPath}' '${EDGE_MAIN}' "$@"\n`);
  chmodSync(file, 0o755);
  return file;
}
