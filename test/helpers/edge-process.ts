// The standalone edge as a real child process: `node apps/edge/src/main.ts --config FILE`, its
// pino JSON log lines parsed as they arrive, waits on log events with deadlines, signals, and a
// SIGKILL in the test's cleanup for whatever is still running.

import { type ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { deferCleanup } from './cleanup.ts';
import { type CommandResult, commandResult } from './command-result.ts';
import { withTimeout } from './poll.ts';
import { type RelayPath, relayPathEnv } from './relay-paths.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
export const EDGE_MAIN = join(REPO_ROOT, 'apps', 'edge', 'src', 'main.ts');

/** One stdout line: the parsed pino object, or `{ msg: '', raw }` for a line that is not JSON. */
export interface EdgeLog {
  readonly msg: string;
  readonly raw: string;
  readonly [field: string]: unknown;
}

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

interface LogWaiter {
  readonly from: number;
  readonly predicate: (log: EdgeLog) => boolean;
  readonly resolve: (log: EdgeLog) => void;
  readonly reject: (err: Error) => void;
}

// Children still running when the test process itself goes away are killed with it (the
// server helpers register theirs here too).
export const LIVE_CHILDREN = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of LIVE_CHILDREN) child.kill('SIGKILL');
});

/** A pino JSON line as a record with `msg`; other lines (stack traces) kept raw. */
export function parseLine(line: string): EdgeLog {
  try {
    const parsed: unknown = JSON.parse(line);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      const record = parsed as Record<string, unknown>;
      return { ...record, msg: typeof record.msg === 'string' ? record.msg : '', raw: line };
    }
  } catch {
    // Not JSON: kept raw, visible in failure messages.
  }
  return { msg: '', raw: line };
}

export class EdgeProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly logs: EdgeLog[] = [];
  stderr = '';
  exitStatus: ExitStatus | null = null;
  readonly exited: Promise<ExitStatus>;
  readonly #waiters = new Set<LogWaiter>();

  constructor(child: ChildProcess) {
    if (child.pid === undefined) throw new Error(`could not start ${EDGE_MAIN}`);
    this.child = child;
    this.pid = child.pid;
    LIVE_CHILDREN.add(child);
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      this.stderr += text;
    });
    const lines = createInterface({ input: child.stdout!, crlfDelay: Number.POSITIVE_INFINITY });
    lines.on('line', (line) => this.#onLine(line));
    const stdoutDone = new Promise<void>((done) => lines.once('close', () => done()));
    this.exited = new Promise<ExitStatus>((done) => {
      child.once('exit', (code, signal) => {
        LIVE_CHILDREN.delete(child);
        // Every line written before the exit is parsed before anyone sees the exit.
        void stdoutDone.then(() => {
          this.exitStatus = { code, signal };
          for (const waiter of this.#waiters) {
            waiter.reject(
              new Error(
                `edge exited (code ${code}, signal ${signal}) before the log line came\n${this.describe()}`,
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
    const log = parseLine(line);
    this.logs.push(log);
    const index = this.logs.length - 1;
    for (const waiter of this.#waiters) {
      if (index >= waiter.from && waiter.predicate(log)) {
        this.#waiters.delete(waiter);
        waiter.resolve(log);
      }
    }
  }

  /** The index the next log line will get: pass it to `waitForLog` to ignore older lines. */
  mark(): number {
    return this.logs.length;
  }

  /** Resolves with the first log line at or after `from` that matches `predicate`. */
  waitForLog(predicate: (log: EdgeLog) => boolean, timeoutMs: number, from = 0): Promise<EdgeLog> {
    const seen = this.logs.slice(from).find(predicate);
    if (seen !== undefined) return Promise.resolve(seen);
    if (this.exitStatus !== null) {
      return Promise.reject(new Error(`edge already exited; no such log line\n${this.describe()}`));
    }
    let waiter: LogWaiter | undefined;
    const found = new Promise<EdgeLog>((resolve, reject) => {
      waiter = { from, predicate, resolve, reject };
      this.#waiters.add(waiter);
    });
    return withTimeout(found, timeoutMs, `an edge log line matching ${predicate.toString()}`).catch(
      (err: Error) => {
        if (waiter !== undefined) this.#waiters.delete(waiter);
        throw new Error(`${err.message}\n${this.describe()}`);
      },
    );
  }

  /** Waits for a line with this `msg` whose fields include `fields` (compared with ===). */
  waitForMsg(
    msg: string,
    fields: Record<string, unknown> = {},
    timeoutMs = 10_000,
    from = 0,
  ): Promise<EdgeLog> {
    const predicate = (log: EdgeLog): boolean =>
      log.msg === msg && Object.entries(fields).every(([key, value]) => log[key] === value);
    Object.defineProperty(predicate, 'toString', { value: () => `msg=${msg} ${JSON.stringify(fields)}` });
    return this.waitForLog(predicate, timeoutMs, from);
  }

  signal(signal: NodeJS.Signals): void {
    if (this.exitStatus !== null) throw new Error(`edge already exited; cannot send ${signal}`);
    this.child.kill(signal);
  }

  waitForExit(timeoutMs: number): Promise<ExitStatus> {
    return withTimeout(this.exited, timeoutMs, `edge pid ${this.pid} to exit`).catch((err: Error) => {
      throw new Error(`${err.message}\n${this.describe()}`);
    });
  }

  /** SIGKILL unless already gone; resolves once the process has exited. */
  async kill(): Promise<void> {
    if (this.exitStatus === null && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
    }
    await this.exited;
  }

  /** The last log lines and stderr, for failure messages. */
  describe(lastLines = 30): string {
    const tail = this.logs.slice(-lastLines).map((log) => `  ${log.raw}`);
    return `edge pid ${this.pid} log tail:\n${tail.join('\n')}\nstderr:\n${this.stderr.slice(-4000)}`;
  }
}

/** The edge runs from its TypeScript source, so the Node running the tests must strip types. */
function edgeNode(): string {
  const features = process.features as { typescript?: string | false };
  if (!features.typescript) {
    throw new Error(
      `${process.execPath} (Node ${process.version}) cannot run TypeScript; run the tests through ./run (Node 24)`,
    );
  }
  return process.execPath;
}

function edgeEnv(relayPath: RelayPath, extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // The relay path and the test hooks are chosen per test, never inherited.
  delete env.SLUICE_NO_SPLICE;
  delete env.SLUICE_TEST_HOOKS;
  return { ...env, ...relayPathEnv(relayPath), ...extra };
}

export interface StartEdgeOptions {
  readonly configFile: string;
  readonly relayPath: RelayPath;
  readonly env?: Record<string, string>;
  /** Wait for the "edge ready" line before resolving (default true). */
  readonly waitReady?: boolean;
  readonly readyTimeoutMs?: number;
}

/** Starts the edge; it is SIGKILLed by the test's cleanup if still running. */
export async function startEdge(options: StartEdgeOptions): Promise<EdgeProcess> {
  const child = spawn(edgeNode(), [EDGE_MAIN, '--config', options.configFile], {
    cwd: REPO_ROOT,
    env: edgeEnv(options.relayPath, options.env ?? {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const edge = new EdgeProcess(child);
  deferCleanup(() => edge.kill());
  if (options.waitReady ?? true) {
    const ready = await edge.waitForMsg('edge ready', {}, options.readyTimeoutMs ?? 20_000);
    // A test of one relay path must not pass on the other: the addon failing to build would
    // otherwise turn every splice test into a second run of the JS path.
    if (ready.relay !== options.relayPath) {
      throw new Error(`edge runs relay path ${String(ready.relay)} (${String(ready.splice)}), the test asked for ${options.relayPath}`);
    }
  }
  return edge;
}

export type { CommandResult } from './command-result.ts';

/** Runs the edge binary with `args` to completion (e.g. `--check --config FILE`). */
export function runEdgeCommand(args: readonly string[], timeoutMs = 20_000): Promise<CommandResult> {
  const child = spawn(edgeNode(), [EDGE_MAIN, ...args], {
    cwd: REPO_ROOT,
    env: edgeEnv('js', {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  LIVE_CHILDREN.add(child);
  return commandResult(child, `sluice-edge ${args.join(' ')}`, timeoutMs, () => LIVE_CHILDREN.delete(child));
}
