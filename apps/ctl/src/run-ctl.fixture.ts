// sluicectl run in-process against a server, its output captured: what the command tests share.

import { type CliIo, runCli } from './cli.ts';

export interface CtlRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `sluicectl --server URL --token TOKEN ...args`, with `io` for the clock or a terminal. */
export async function runCtl(
  server: string,
  token: string,
  args: readonly string[],
  io: Pick<CliIo, 'now' | 'tty'> = {},
): Promise<CtlRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['--server', server, '--token', token, ...args], {
    env: {},
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    interrupt: () => new AbortController().signal,
    ...io,
  });
  return { code, stdout, stderr };
}
