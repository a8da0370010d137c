// A spawned command run to completion: its output collected, its exit awaited within a time
// limit, and the process killed by the test's cleanup if it is still running then.

import type { ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { withTimeout } from '@sluice/test-kit';
import { deferCleanup } from './cleanup.ts';

export interface CommandResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function commandResult(
  child: ChildProcessByStdio<null, Readable, Readable>,
  what: string,
  timeoutMs: number,
  onClose: () => void = () => {},
): Promise<CommandResult> {
  deferCleanup(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
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
    child.once('close', (code, signal) => {
      onClose();
      resolve({ code, signal, stdout, stderr });
    });
  });
  return withTimeout(done, timeoutMs, what);
}
