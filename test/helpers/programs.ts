// Real peers the end-to-end tests drive (openssl, haproxy) and the child processes they run as:
// found by the kit's requireProgram (a missing one fails the test with the command that installs
// it), started with their output kept for failure messages, and SIGKILLed by the test's cleanup.

import { type ChildProcess, spawn } from 'node:child_process';
import { deferCleanup } from './cleanup.ts';

export interface Program {
  readonly child: ChildProcess;
  readonly what: string;
  /** Everything written to stdout and stderr so far. */
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** True once the process has exited. */
  readonly gone: () => boolean;
  /** Its output, for failure messages. */
  describe(): string;
}

/** Starts `binary args`; stdin is a pipe. SIGKILLed (and waited for) by the test's cleanup. */
export function startProgram(binary: string, args: readonly string[], what: string): Program {
  const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => {
    stdout += text;
  });
  child.stderr!.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  // A child that exits first makes writes to its stdin fail; that is for the test to notice.
  child.stdin!.on('error', () => {});
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('error', (err) => {
      stderr += `spawn failed: ${String(err)}\n`;
      done = true;
      resolve({ code: null, signal: null });
    });
    child.once('close', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
  });
  deferCleanup(async () => {
    if (!done) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  return {
    child,
    what,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    gone: () => done,
    describe: () =>
      `${what} (pid ${child.pid}) stdout:\n${stdout.slice(-3000)}\nstderr:\n${stderr.slice(-3000)}`,
  };
}
