// A child process the bench starts and must end: its stdout lines as they arrive (to wait for a
// readiness line), bounded tails of its output for error messages, a stop that escalates from a
// signal to SIGKILL, and a SIGKILL from the cleanups if the bench ends first. spawnReady starts
// one and waits until it serves.

import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { onCleanup } from './cleanup.ts';
import { BENCH_ERRORS, type BenchError } from './errors.ts';
import { LineWatch } from './line-watch.ts';

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the process could not be spawned at all (ENOENT, EACCES). */
  readonly spawnError?: string;
}

export interface ManagedProcessOptions {
  /** Names the process in messages: `haproxy`, `iperf3 server`. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Keep all of stdout (iperf3 -J); otherwise only a tail is kept. */
  readonly keepStdout?: boolean;
  /** An IPC channel as with fork(): `send` and 'message' work. */
  readonly ipc?: boolean;
}

const TAIL_CHARS = 4000;

function appendTail(tail: string, text: string): string {
  const next = tail + text;
  return next.length > TAIL_CHARS ? next.slice(-TAIL_CHARS) : next;
}

export class ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<ExitStatus>;
  exitStatus: ExitStatus | null = null;
  stdout = '';
  stderrTail = '';
  readonly #lines: LineWatch<string>;
  readonly #keepStdout: boolean;

  constructor(options: ManagedProcessOptions) {
    this.name = options.name;
    this.#keepStdout = options.keepStdout ?? false;
    this.#lines = new LineWatch(options.name, 1000);
    const spawnOptions: SpawnOptions = {
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe', ...(options.ipc ? (['ipc'] as const) : [])],
    };
    if (options.cwd !== undefined) spawnOptions.cwd = options.cwd;
    this.child = spawn(options.command, [...options.args], spawnOptions);
    const unregister = onCleanup(() => this.kill());
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (text: string) => {
      this.stderrTail = appendTail(this.stderrTail, text);
    });
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (text: string) => {
      this.stdout = this.#keepStdout ? this.stdout + text : appendTail(this.stdout, text);
    });
    const lines = createInterface({ input: this.child.stdout!, crlfDelay: Number.POSITIVE_INFINITY });
    lines.on('line', (line) => {
      if (line.trim() !== '') this.#lines.push(line);
    });
    const stdoutDone = new Promise<void>((done) => lines.once('close', () => done()));
    this.exited = new Promise<ExitStatus>((resolve) => {
      const finish = (status: ExitStatus): void => {
        if (this.exitStatus !== null) return;
        this.exitStatus = status;
        unregister();
        this.#lines.end(describeExit(status));
        resolve(status);
      };
      this.child.once('error', (err) => finish({ code: null, signal: null, spawnError: err.message }));
      // Every line written before the exit is seen before anyone learns of the exit.
      this.child.once('exit', (code, signal) => void stdoutDone.then(() => finish({ code, signal })));
    });
  }

  /** The pid; throws if the process never started. */
  get pid(): number {
    if (this.child.pid === undefined) {
      throw BENCH_ERRORS.error('contender_start_failed', {
        contender: this.name,
        reason: this.exitStatus?.spawnError ?? 'no pid',
      });
    }
    return this.child.pid;
  }

  get running(): boolean {
    return this.exitStatus === null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the first stdout line (seen or to come) that matches; rejects on exit or timeout. */
  waitForLine(predicate: (line: string) => boolean, timeoutMs: number, what: string): Promise<string> {
    return this.#lines.waitFor(predicate, timeoutMs, what);
  }

  /** Resolves with the exit status, or rejects with a `timeout` BenchError after `timeoutMs`. */
  async waitForExit(timeoutMs: number): Promise<ExitStatus> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(BENCH_ERRORS.error('timeout', { ms: timeoutMs, what: `${this.name} to exit` })),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends `signal`, waits up to `graceMs`, then SIGKILLs; resolves once the process is gone. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<ExitStatus> {
    if (this.running) this.child.kill(signal);
    try {
      return await this.waitForExit(graceMs);
    } catch {
      this.kill();
      return this.exited;
    }
  }

  /** SIGKILL unless already gone (synchronous: usable from cleanups). */
  kill(): void {
    if (this.running) this.child.kill('SIGKILL');
  }

  /** The stdout and stderr tails, for error messages. */
  describe(): string {
    const out = this.#lines.lines.slice(-15).join('\n');
    return `${this.name} stdout tail:\n${out || '(none)'}\n${this.name} stderr tail:\n${this.stderrTail.trim() || '(none)'}`;
  }
}

export function describeExit(status: ExitStatus): string {
  if (status.spawnError !== undefined) return `could not start: ${status.spawnError}`;
  return status.signal !== null ? `signal ${status.signal}` : `code ${status.code}`;
}

export interface SpawnReadyOptions extends ManagedProcessOptions {
  /** Resolves once the process serves; rejects, saying why, when it does not. */
  readonly ready: (proc: ManagedProcess) => Promise<unknown>;
  /** The error thrown when it does not get ready, given why and the output tails. */
  readonly failure: (reason: string) => BenchError;
  /** What start-up made that must go when it fails (a temp dir). */
  readonly undo?: () => void;
}

/** Spawns a process and waits until it serves; on failure it is killed, `undo` runs, and `failure` is thrown. */
export async function spawnReady(options: SpawnReadyOptions): Promise<ManagedProcess> {
  const proc = new ManagedProcess(options);
  try {
    await options.ready(proc);
    return proc;
  } catch (err) {
    proc.kill();
    options.undo?.();
    throw options.failure(`${err instanceof Error ? err.message : String(err)}\n${proc.describe()}`);
  }
}

/** The readiness of the bench's own helper processes: they print `listening` once they serve. */
export function listeningLine(proc: ManagedProcess): Promise<string> {
  return proc.waitForLine((line) => line === 'listening', 15_000, 'the "listening" line');
}
