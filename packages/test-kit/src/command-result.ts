// A spawned command run to completion: its output collected and its exit awaited within a time
// limit. A command still running at the limit is SIGKILLed, so a failed wait leaves nothing behind.

import type { ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { withTimeout } from './poll.ts';

export interface CommandResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** What `child` wrote and how it ended; rejects naming `what` if it runs past `timeoutMs`. */
export function commandResult(
  child: ChildProcessByStdio<null, Readable, Readable>,
  what: string,
  timeoutMs: number,
): Promise<CommandResult> {
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    stdout += text;
  });
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  const done = new Promise<CommandResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return withTimeout(done, timeoutMs, what).catch((err: Error) => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    throw new Error(`${err.message}\nstdout:\n${stdout.slice(-2000)}\nstderr:\n${stderr.slice(-2000)}`);
  });
}
