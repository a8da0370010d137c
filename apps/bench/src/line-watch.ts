// The lines a child process has written so far, and waits for the first line that matches, seen
// or to come: used for plain stdout lines (`listening`) and for parsed JSON log lines alike.

import { BENCH_ERRORS } from './errors.ts';

interface Waiter<L> {
  readonly predicate: (line: L) => boolean;
  readonly resolve: (line: L) => void;
  readonly reject: (err: Error) => void;
}

export class LineWatch<L> {
  /** Names the process in messages: `haproxy`, `sluice-server`. */
  readonly source: string;
  readonly lines: L[] = [];
  readonly #keep: number;
  readonly #waiters = new Set<Waiter<L>>();
  /** Why no more lines will come (`code 1`), once the process is gone. */
  #ended: string | null = null;

  /** Keeps the last `keep` lines (all of them by default). */
  constructor(source: string, keep = Number.POSITIVE_INFINITY) {
    this.source = source;
    this.#keep = keep;
  }

  push(line: L): void {
    this.lines.push(line);
    if (this.lines.length > this.#keep) this.lines.shift();
    for (const waiter of this.#waiters) {
      if (waiter.predicate(line)) {
        this.#waiters.delete(waiter);
        waiter.resolve(line);
      }
    }
  }

  /** No more lines: every wait still open fails, naming how the process ended. */
  end(how: string): void {
    this.#ended = how;
    for (const waiter of this.#waiters) waiter.reject(this.#endedError(how, 'it was ready'));
    this.#waiters.clear();
  }

  /**
   * The first line from index `from` on that matches, seen or to come; rejects when the process
   * ends first, or with a `timeout` error after `timeoutMs`. `what` names the line in messages.
   */
  waitFor(predicate: (line: L) => boolean, timeoutMs: number, what: string, from = 0): Promise<L> {
    const seen = this.lines.slice(from).find(predicate);
    if (seen !== undefined) return Promise.resolve(seen);
    if (this.#ended !== null) return Promise.reject(this.#endedError(this.#ended, what));
    return new Promise<L>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(BENCH_ERRORS.error('timeout', { ms: timeoutMs, what: `${what} from ${this.source}` }));
      }, timeoutMs);
      const waiter: Waiter<L> = {
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

  #endedError(how: string, before: string): Error {
    return new Error(`${this.source} exited (${how}) before ${before}`);
  }
}
