// sluicectl as an operator runs it: `node apps/ctl/src/main.ts --server URL --token T ARGS`, to
// completion, with its exit code, stdout and stderr.

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { type CommandResult, commandResult } from './command-result.ts';
import { REPO_ROOT } from './edge-process.ts';
import { type Program, startProgram } from './programs.ts';

export const CTL_MAIN = join(REPO_ROOT, 'apps', 'ctl', 'src', 'main.ts');

export interface CtlTarget {
  readonly server: string;
  readonly token: string;
}

function ctlArgs(target: CtlTarget, args: readonly string[]): string[] {
  return [CTL_MAIN, '--server', target.server, '--token', target.token, ...args];
}

/**
 * A sluicectl that runs until stopped (`rule-stats ID --watch`), its output collected as it
 * comes; SIGKILLed by the test's cleanup if still running.
 */
export function startCtl(target: CtlTarget, args: readonly string[]): Program {
  return startProgram(process.execPath, ctlArgs(target, args), `sluicectl ${args.join(' ')}`);
}

export function runCtl(
  target: CtlTarget,
  args: readonly string[],
  timeoutMs = 30_000,
): Promise<CommandResult> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.SLUICE_SERVER;
  delete env.SLUICE_TOKEN;
  const child = spawn(
    process.execPath,
    [CTL_MAIN, '--server', target.server, '--token', target.token, ...args],
    {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return commandResult(child, `sluicectl ${args.join(' ')}`, timeoutMs);
}

/** Runs a `--format json` command that must exit 0; its parsed stdout. */
export async function ctlJson<T>(target: CtlTarget, args: readonly string[]): Promise<T> {
  const result = await runCtl(target, [...args, '--format', 'json']);
  if (result.code !== 0) {
    throw new Error(`sluicectl ${args.join(' ')} exited ${result.code}: ${result.stderr}${result.stdout}`);
  }
  return JSON.parse(result.stdout) as T;
}
