// An iperf3 server this process starts and stops: one-off (-1, serves one test then exits) or
// persistent, bound to a loopback address by default. Ready once iperf3 prints its "Server
// listening" line (--forceflush, so the line is not stuck in a pipe buffer); no probe
// connection, which the server would count as a failed test.

import { requireIperf3 } from './binary.ts';
import { type ChildExit, describeExit, Iperf3Child, waitFor } from './child.ts';
import { IPERF3_ERRORS } from './errors.ts';

export interface Iperf3ServerOptions {
  readonly port: number;
  /** -B, the address to listen on; default 127.0.0.1. */
  readonly host?: string;
  /** -1: serve one test, then exit. Default false: serve tests until stopped. */
  readonly oneOff?: boolean;
  /** The iperf3 executable; default: found on PATH. */
  readonly binary?: string;
  /** How long to wait for the listening line; default 10 s. */
  readonly startTimeoutMs?: number;
}

const LISTENING = /^Server listening on (\d+)/;

export class Iperf3Server {
  readonly port: number;
  readonly #child: Iperf3Child;

  constructor(port: number, child: Iperf3Child) {
    this.port = port;
    this.#child = child;
  }

  get pid(): number | null {
    return this.#child.pid;
  }

  get running(): boolean {
    return this.#child.running;
  }

  get exited(): Promise<ChildExit> {
    return this.#child.exited;
  }

  /** SIGTERM, then SIGKILL after `graceMs`; safe to call twice and after the server exited. */
  stop(graceMs = 3000): Promise<ChildExit> {
    return this.#child.stop('SIGTERM', graceMs);
  }

  /** SIGKILL now, synchronously (for exit handlers). */
  kill(): void {
    this.#child.kill();
  }

  /** What the server printed last, for error messages. */
  output(): string {
    return `${this.#child.stdout.slice(-1000)}${this.#child.stderrTail}`.trim();
  }
}

/** Starts an iperf3 server and resolves once it listens; rejects with an Iperf3Error. */
export async function startIperf3Server(options: Iperf3ServerOptions): Promise<Iperf3Server> {
  const binary = requireIperf3(options.binary);
  const args = ['-s', '-B', options.host ?? '127.0.0.1', '-p', String(options.port), '--forceflush'];
  if (options.oneOff) args.push('-1');
  let listening: (() => void) | null = null;
  const ready = new Promise<void>((resolve) => {
    listening = resolve;
  });
  const child = new Iperf3Child(binary, args, (line) => {
    if (LISTENING.test(line)) listening?.();
  });
  const timeoutMs = options.startTimeoutMs ?? 10_000;
  const outcome = await waitFor(
    Promise.race([ready.then(() => 'ready' as const), child.exited.then(() => 'exited' as const)]),
    timeoutMs,
  );
  if (outcome === 'ready') return new Iperf3Server(options.port, child);
  child.kill();
  const exit = await child.exited;
  if (exit.spawnError !== undefined) {
    throw IPERF3_ERRORS.error('iperf3_missing', { install: `${binary}: ${exit.spawnError}` });
  }
  const reason =
    outcome === null
      ? `no "Server listening" line within ${timeoutMs} ms`
      : `${describeExit(exit)}: ${child.said().replace(/^iperf3: (error - )?/gm, '')}`;
  throw IPERF3_ERRORS.error('iperf3_server_failed', { port: options.port, reason });
}
