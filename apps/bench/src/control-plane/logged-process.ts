// A child process whose pino JSON log lines (stderr for sluice-server, stdout for sluice-edge)
// are parsed and kept as they arrive, with a wait for the first line that matches (a LineWatch). The process
// itself (spawn, stop, SIGKILL in the cleanups) is a ManagedProcess.

import { createInterface } from 'node:readline';
import { LineWatch } from '../line-watch.ts';
import { type LogLine, parseLogLine } from '../log-line.ts';
import { describeExit, ManagedProcess, type ManagedProcessOptions } from '../managed-process.ts';

export class LoggedProcess {
  readonly process: ManagedProcess;
  readonly #watch: LineWatch<LogLine>;

  constructor(options: ManagedProcessOptions & { readonly logStream: 'stdout' | 'stderr' }) {
    this.process = new ManagedProcess(options);
    this.#watch = new LineWatch(options.name);
    const stream = options.logStream === 'stdout' ? this.process.child.stdout! : this.process.child.stderr!;
    const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
    lines.on('line', (text) => {
      const line = parseLogLine(text);
      if (line !== null) this.#watch.push(line);
    });
    void this.process.exited.then((status) => this.#watch.end(describeExit(status)));
  }

  get pid(): number {
    return this.process.pid;
  }

  /** Every log line so far. */
  get logs(): readonly LogLine[] {
    return this.#watch.lines;
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
    return this.#watch.waitFor(
      (line) => line.msg === msg && where(line),
      timeoutMs,
      `log line "${msg}"`,
      from,
    );
  }
}
