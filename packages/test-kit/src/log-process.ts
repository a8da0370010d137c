// A child process that logs JSON lines (sluice-edge on stdout, sluice-server on stderr): the
// lines are parsed and kept as they arrive, the other stream is kept as text for failure
// messages, and a test waits on a log line or the exit with a deadline. Children still running
// when the test process itself goes away are SIGKILLed with it.

import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { type LogLine, logMatches, parseLogLine } from './log-lines.ts';
import { withTimeout } from './poll.ts';

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

const LIVE_CHILDREN = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of LIVE_CHILDREN) child.kill('SIGKILL');
});

/** SIGKILLs `child` when this process exits, unless it exited first. */
export function killOnExit(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  LIVE_CHILDREN.add(child);
  child.once('exit', () => LIVE_CHILDREN.delete(child));
}

export interface LogProcessOptions {
  /** Named in errors: `edge`, `server`. */
  readonly name: string;
  /** The stream that carries the JSON log lines; the other one is kept as text. */
  readonly logStream: 'stdout' | 'stderr';
}

interface LogWaiter {
  readonly from: number;
  readonly predicate: (log: LogLine) => boolean;
  readonly resolve: (log: LogLine) => void;
  readonly reject: (err: Error) => void;
}

export class LogProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly name: string;
  /** Every line of the log stream in order; a line that is not JSON is kept with `msg: ''`. */
  readonly logs: LogLine[] = [];
  /** Everything the other stream carried so far. */
  otherOutput = '';
  exitStatus: ExitStatus | null = null;
  readonly exited: Promise<ExitStatus>;
  readonly #waiters = new Set<LogWaiter>();
  readonly #otherName: 'stdout' | 'stderr';

  constructor(child: ChildProcess, options: LogProcessOptions) {
    if (child.pid === undefined) throw new Error(`could not start the ${options.name} process`);
    this.child = child;
    this.pid = child.pid;
    this.name = options.name;
    this.#otherName = options.logStream === 'stdout' ? 'stderr' : 'stdout';
    killOnExit(child);
    const [logStream, otherStream] =
      options.logStream === 'stdout' ? [child.stdout!, child.stderr!] : [child.stderr!, child.stdout!];
    otherStream.setEncoding('utf8');
    otherStream.on('data', (text: string) => {
      this.otherOutput += text;
    });
    const lines = createInterface({ input: logStream, crlfDelay: Number.POSITIVE_INFINITY });
    lines.on('line', (line) => this.#onLine(line));
    const logDone = new Promise<void>((done) => lines.once('close', () => done()));
    this.exited = new Promise<ExitStatus>((done) => {
      child.once('exit', (code, signal) => {
        // Every line written before the exit is parsed before anyone sees the exit.
        void logDone.then(() => {
          this.exitStatus = { code, signal };
          for (const waiter of this.#waiters) {
            waiter.reject(
              new Error(
                `${this.name} exited (code ${code}, signal ${signal}) before the log line came\n${this.describe()}`,
              ),
            );
          }
          this.#waiters.clear();
          done({ code, signal });
        });
      });
    });
  }

  #onLine(line: string): void {
    if (line.trim() === '') return;
    const log = parseLogLine(line) ?? { msg: '', raw: line };
    this.logs.push(log);
    const index = this.logs.length - 1;
    for (const waiter of this.#waiters) {
      if (index >= waiter.from && waiter.predicate(log)) {
        this.#waiters.delete(waiter);
        waiter.resolve(log);
      }
    }
  }

  /** The index the next log line will get: pass it as `from` to ignore older lines. */
  mark(): number {
    return this.logs.length;
  }

  /** The first line at or after `from` with this `msg` and these fields (===), if it came. */
  find(msg: string, fields: Readonly<Record<string, unknown>> = {}, from = 0): LogLine | undefined {
    return this.logs.slice(from).find((log) => logMatches(log, msg, fields));
  }

  /** Resolves with the first log line at or after `from` that matches `predicate`. */
  waitForLog(predicate: (log: LogLine) => boolean, timeoutMs: number, from = 0): Promise<LogLine> {
    const seen = this.logs.slice(from).find(predicate);
    if (seen !== undefined) return Promise.resolve(seen);
    if (this.exitStatus !== null) {
      return Promise.reject(new Error(`${this.name} already exited; no such log line\n${this.describe()}`));
    }
    let waiter: LogWaiter | undefined;
    const found = new Promise<LogLine>((resolve, reject) => {
      waiter = { from, predicate, resolve, reject };
      this.#waiters.add(waiter);
    });
    return withTimeout(found, timeoutMs, `a ${this.name} log line matching ${predicate.toString()}`).catch(
      (err: Error) => {
        if (waiter !== undefined) this.#waiters.delete(waiter);
        throw new Error(`${err.message}\n${this.describe()}`);
      },
    );
  }

  /** Waits for a line with this `msg` whose fields include `fields` (compared with ===). */
  waitForMsg(
    msg: string,
    fields: Readonly<Record<string, unknown>> = {},
    timeoutMs = 10_000,
    from = 0,
  ): Promise<LogLine> {
    const predicate = (log: LogLine): boolean => logMatches(log, msg, fields);
    Object.defineProperty(predicate, 'toString', { value: () => `msg=${msg} ${JSON.stringify(fields)}` });
    return this.waitForLog(predicate, timeoutMs, from);
  }

  signal(signal: NodeJS.Signals): void {
    if (this.exitStatus !== null) throw new Error(`${this.name} already exited; cannot send ${signal}`);
    this.child.kill(signal);
  }

  waitForExit(timeoutMs: number): Promise<ExitStatus> {
    return withTimeout(this.exited, timeoutMs, `${this.name} pid ${this.pid} to exit`).catch((err: Error) => {
      throw new Error(`${err.message}\n${this.describe()}`);
    });
  }

  /** SIGKILL (as a crash would) unless already gone; resolves once the process has exited. */
  async kill(): Promise<ExitStatus> {
    if (this.exitStatus === null && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
    }
    return this.exited;
  }

  /** The last log lines and the other stream, for failure messages. */
  describe(lastLines = 30): string {
    const tail = this.logs.slice(-lastLines).map((log) => `  ${log.raw}`);
    return `${this.name} pid ${this.pid} log tail:\n${tail.join('\n')}\n${this.#otherName}:\n${this.otherOutput.slice(-4000)}`;
  }
}
