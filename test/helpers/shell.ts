// A command typed at a prompt in the repo root: `bash -c COMMAND` in its own process group, its
// output kept as text, waits on what it prints, and Ctrl-C as a terminal sends it. The doc tests
// (test/readme.test.ts, test/operations-doc.test.ts) run every documented command through it.

import { type ChildProcess, spawn } from 'node:child_process';
import { pollUntil } from '@sluice/test-kit';
import { deferCleanup } from './cleanup.ts';
import { REPO_ROOT } from './edge-process.ts';

const READY_TIMEOUT_MS = 30_000;
const COMMAND_TIMEOUT_MS = 60_000;
// Ctrl-C on an edge drains open connections; the walkthroughs leave none open, so it is quick.
const STOP_TIMEOUT_MS = 15_000;

/** A `bash -c` child in its own process group, so stopping it reaches pnpm, the shell and node. */
export class Shell {
  readonly command: string;
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  exitCode: number | null = null;
  exited = false;
  /** Set once the whole group is seen gone, so the cleanup never signals a reused group id. */
  private gone = false;
  readonly done: Promise<void>;

  constructor(command: string, env: NodeJS.ProcessEnv) {
    this.command = command;
    this.child = spawn('bash', ['-c', command], {
      cwd: REPO_ROOT,
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
    });
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.done = new Promise((resolve) => {
      this.child.on('close', (code) => {
        this.exitCode = code;
        this.exited = true;
        resolve();
      });
    });
    deferCleanup(() => this.kill('SIGKILL'));
  }

  describe(): string {
    const exit = this.exitCode ?? 'none yet';
    return `\`${this.command}\` (exit ${exit})\n--- stdout\n${this.stdout}--- stderr\n${this.stderr}`;
  }

  /** Waits for `pattern` in the output; fails at once if the command exits first. */
  async waitFor(pattern: RegExp, stream: 'stdout' | 'stderr', what: string): Promise<RegExpMatchArray> {
    const found = await pollUntil(() => this[stream].match(pattern) ?? (this.exited ? 'exited' : undefined), {
      timeoutMs: READY_TIMEOUT_MS,
      intervalMs: 100,
      what: `${what} from \`${this.command}\``,
    }).catch((err: unknown) => {
      throw new Error(`${err instanceof Error ? err.message : err}\n${this.describe()}`);
    });
    if (found === 'exited') throw new Error(`exited before ${what}: ${this.describe()}`);
    return found;
  }

  /** A command that runs to completion, as typed at a prompt. */
  async finish(): Promise<this> {
    await pollUntil(() => this.exited, {
      timeoutMs: COMMAND_TIMEOUT_MS,
      intervalMs: 100,
      what: `\`${this.command}\` to exit`,
    });
    return this;
  }

  /** Ctrl-C, as a terminal sends it: SIGINT to the whole foreground group, which must then be gone. */
  async interrupt(): Promise<void> {
    this.kill('SIGINT');
    await pollUntil(() => !this.groupAlive(), {
      timeoutMs: STOP_TIMEOUT_MS,
      intervalMs: 100,
      what: `\`${this.command}\` and its children to stop on Ctrl-C`,
    });
  }

  kill(signal: NodeJS.Signals): void {
    if (this.child.pid === undefined || this.gone) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }

  private groupAlive(): boolean {
    if (this.child.pid === undefined) return false;
    try {
      process.kill(-this.child.pid, 0);
      return true;
    } catch {
      this.gone = true;
      return false;
    }
  }
}
