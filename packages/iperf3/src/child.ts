// One iperf3 process: all of stdout (the -J report), a tail of stderr for messages, its stdout
// lines as they come (the server's "Server listening" line), and its exit.

import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when it could not be spawned at all (ENOENT, EACCES). */
  readonly spawnError?: string;
}

const TAIL_CHARS = 4000;

export class Iperf3Child {
  readonly child: ChildProcess;
  readonly exited: Promise<ChildExit>;
  exit: ChildExit | null = null;
  stdout = '';
  stderrTail = '';
  readonly #onLine: (line: string) => void;

  constructor(binary: string, args: readonly string[], onLine: (line: string) => void = () => {}) {
    this.#onLine = onLine;
    this.child = spawn(binary, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (text: string) => {
      const next = this.stderrTail + text;
      this.stderrTail = next.length > TAIL_CHARS ? next.slice(-TAIL_CHARS) : next;
    });
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (text: string) => {
      this.stdout += text;
    });
    const lines = createInterface({ input: this.child.stdout!, crlfDelay: Number.POSITIVE_INFINITY });
    lines.on('line', (line) => this.#onLine(line));
    const stdoutDone = new Promise<void>((done) => lines.once('close', () => done()));
    this.exited = new Promise<ChildExit>((resolve) => {
      const finish = (exit: ChildExit): void => {
        if (this.exit !== null) return;
        this.exit = exit;
        resolve(exit);
      };
      this.child.once('error', (err) => finish({ code: null, signal: null, spawnError: err.message }));
      // All of stdout is read before the exit is reported.
      this.child.once('exit', (code, signal) => void stdoutDone.then(() => finish({ code, signal })));
    });
  }

  get pid(): number | null {
    return this.child.pid ?? null;
  }

  get running(): boolean {
    return this.exit === null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGKILL unless already gone; synchronous, so usable from exit handlers. */
  kill(): void {
    if (this.running) this.child.kill('SIGKILL');
  }

  /** Sends `signal`, waits up to `graceMs`, then SIGKILLs; resolves once the process is gone. */
  async stop(signal: NodeJS.Signals, graceMs: number): Promise<ChildExit> {
    if (this.running) this.child.kill(signal);
    const exit = await waitFor(this.exited, graceMs);
    if (exit !== null) return exit;
    this.kill();
    return this.exited;
  }

  /** What iperf3 said on stderr, else the start of stdout: for error messages. */
  said(): string {
    return this.stderrTail.trim() || this.stdout.trim().slice(0, 300) || '(nothing)';
  }
}

/** The promise's value, or null once `ms` passed first. */
export async function waitFor<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function describeExit(exit: ChildExit): string {
  if (exit.spawnError !== undefined) return `could not start: ${exit.spawnError}`;
  return exit.signal !== null ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
}
