// A spawned command run to completion (the kit's commandResult), killed by the test's cleanup if
// it is still running then.

import type { ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { type CommandResult, commandResult as collect } from '@sluice/test-kit';
import { deferCleanup } from './cleanup.ts';

export type { CommandResult };

export function commandResult(
  child: ChildProcessByStdio<null, Readable, Readable>,
  what: string,
  timeoutMs: number,
): Promise<CommandResult> {
  deferCleanup(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return collect(child, what, timeoutMs);
}
