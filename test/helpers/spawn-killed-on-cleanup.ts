// A helper process of a test (a listener, a target): its stderr kept for the error messages, and
// SIGKILLed by the test's cleanup if it is still running.

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { deferCleanup } from './cleanup.ts';

export interface SpawnedHelper {
  readonly child: ChildProcessWithoutNullStreams;
  /** What the process wrote on stderr so far. */
  stderr(): string;
}

export function spawnKilledOnCleanup(command: string, args: readonly string[]): SpawnedHelper {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  deferCleanup(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await gone;
    }
  });
  return { child, stderr: () => stderr };
}
