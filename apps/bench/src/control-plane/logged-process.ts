// A child process whose pino JSON log lines (stderr for sluice-server, stdout for sluice-edge)
// are parsed and kept as they arrive, with a wait for the first line that matches. The process
// itself (spawn, stop, SIGKILL in the cleanups) is a ManagedProcess.

import { createInterface } from 'node:readline';
import { parseLogLine as parseJsonLogLine } from '@sluice/test-kit';
import { BenchError } from '../errors.ts';
import { describeExit, ManagedProcess, type ManagedProcessOptions } from '../managed-process.ts';

/** One pino line: `msg`, `time` (ms since the epoch, this machine's clock) and its fields. */
export interface LogLine {
  readonly msg: string;
  readonly time: number;
  readonly [field: string]: unknown;
}

interface LogWaiter {
  readonly predicate: (line: LogLine) => boolean;
  readonly resolve: (line: LogLine) => void;
  readonly reject: (err: Error) => void;
}

/** A parsed log line, or null for a line that is not a pino JSON object with `msg` and `time`. */
export function parseLogLine(text: string): LogLine | null {
  const line = parseJsonLogLine(text);
  if (line === null || line.msg === '' || typeof line.time !== 'number') return null;
  return { ...line, time: line.time };
}

export class LoggedProcess {
  readonly process: ManagedProcess;
  readonly logs: LogLine[] = [];
  readonly #waiters = new Set<LogWaiter>();

  constructor(options: ManagedProcessOptions & { readonly logStream: 'stdout' | 'stderr' }) {
    this.process = new ManagedProcess(options);
    const stream = options.logStream === 'stdout' ? this.process.child.stdout! : this.process.child.stderr!;
    const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
    lines.on('line', (text) => {
      const line = parseLogLine(text);
      if (line === null) return;
      this.logs.push(line);
      for (const waiter of this.#waiters) {
        if (waiter.predicate(line)) {
          this.#waiters.delete(waiter);
          waiter.resolve(line);
        }
      }
    });
    void this.process.exited.then((status) => {
      for (const waiter of this.#waiters) {
        waiter.reject(
          new Error(`${this.process.name} exited (${describeExit(status)})\n${this.process.describe()}`),
        );
      }
      this.#waiters.clear();
    });
  }

  get pid(): number {
    return this.process.pid;
  }

  /** Lines with this `msg` (and matching `where`), from index `from` of the log on. */
  find(msg: string, where: (line: LogLine) => boolean = () => true, from = 0): LogLine[] {
    return this.logs.slice(from).filter((line) => line.msg === msg && where(line));
  }

  /** The first line with this `msg` (and matching `where`), seen or to come, from index `from` on. */
  waitFor(
    msg: string,
    where: (line: LogLine) => boolean = () => true,
    timeoutMs = 30_000,
    from = 0,
  ): Promise<LogLine> {
    const predicate = (line: LogLine): boolean => line.msg === msg && where(line);
    const seen = this.logs.slice(from).find(predicate);
    if (seen !== undefined) return Promise.resolve(seen);
    if (this.process.exitStatus !== null) {
      return Promise.reject(
        new Error(`${this.process.name} exited (${describeExit(this.process.exitStatus)}) before "${msg}"`),
      );
    }
    return new Promise<LogLine>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(
          new BenchError('timeout', { ms: timeoutMs, what: `log line "${msg}" from ${this.process.name}` }),
        );
      }, timeoutMs);
      const waiter: LogWaiter = {
        predicate,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      this.#waiters.add(waiter);
    });
  }
}
