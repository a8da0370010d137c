// One iperf3 client run with a JSON report (-J), parsed into a typed result. Every way it can go
// wrong (no binary, refused connection, a run that hangs, output that is not a report) is an
// Iperf3Error with a code.

import { requireIperf3 } from './binary.ts';
import { describeExit, Iperf3Child, waitFor } from './child.ts';
import { IPERF3_ERRORS } from './errors.ts';
import { DEFAULT_SECONDS, type Iperf3ClientOptions, iperf3ClientArgs } from './options.ts';
import {
  type Iperf3Result,
  type Iperf3TcpResult,
  type Iperf3UdpResult,
  parseIperf3Result,
} from './result.ts';

export interface Iperf3RunOptions extends Iperf3ClientOptions {
  /** The iperf3 executable; default: found on PATH. */
  readonly binary?: string;
  /** Kill the client after this long; default: seconds + omitSeconds + 20 s. */
  readonly timeoutMs?: number;
  /** Aborting kills the client; the run rejects with iperf3_client_failed. */
  readonly signal?: AbortSignal;
}

/** Runs one client; resolves with the parsed report or rejects with an Iperf3Error. */
export async function runIperf3(options: Iperf3RunOptions): Promise<Iperf3Result> {
  const args = iperf3ClientArgs(options);
  const binary = requireIperf3(options.binary);
  options.signal?.throwIfAborted();
  const child = new Iperf3Child(binary, args);
  const onAbort = (): void => child.kill();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const timeoutMs =
    options.timeoutMs ?? ((options.seconds ?? DEFAULT_SECONDS) + (options.omitSeconds ?? 0) + 20) * 1000;
  try {
    const exit = await waitFor(child.exited, timeoutMs);
    if (exit === null) {
      child.kill();
      await child.exited;
      throw IPERF3_ERRORS.error('iperf3_timeout', { role: 'client', ms: timeoutMs });
    }
    if (options.signal?.aborted) {
      throw IPERF3_ERRORS.error('iperf3_client_failed', { reason: 'aborted' });
    }
    if (exit.spawnError !== undefined) {
      throw IPERF3_ERRORS.error('iperf3_missing', { install: `${binary}: ${exit.spawnError}` });
    }
    try {
      return parseIperf3Result(child.stdout);
    } catch (err) {
      // A report that parses says what went wrong; otherwise the exit status and stderr do.
      if (IPERF3_ERRORS.is(err) && err.code === 'iperf3_client_failed') throw err;
      if (exit.code !== 0) {
        throw IPERF3_ERRORS.error('iperf3_client_failed', {
          reason: `${describeExit(exit)}: ${child.said()}`,
        });
      }
      throw err;
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** A TCP run (udp is forced off). */
export async function runIperf3Tcp(options: Iperf3RunOptions): Promise<Iperf3TcpResult> {
  const result = await runIperf3({ ...options, udp: false });
  if (result.protocol !== 'tcp') throw IPERF3_ERRORS.error('iperf3_bad_output', { reason: 'not a TCP run' });
  return result;
}

/** A UDP run (udp is forced on). */
export async function runIperf3Udp(options: Iperf3RunOptions): Promise<Iperf3UdpResult> {
  const result = await runIperf3({ ...options, udp: true });
  if (result.protocol !== 'udp') throw IPERF3_ERRORS.error('iperf3_bad_output', { reason: 'not a UDP run' });
  return result;
}
