// iperf3 as processes: a one-off server on a loopback port, and a TCP client run whose -J
// report is parsed by iperf3-result.ts. (packages/iperf3 will take this over.)

import { BenchError } from './errors.ts';
import { type Iperf3TcpResult, parseIperf3TcpResult } from './iperf3-result.ts';
import { describeExit, ManagedProcess } from './managed-process.ts';
import { waitForListening } from './ports.ts';
import { findExecutable } from './tools.ts';

function iperf3Binary(): string {
  const binary = findExecutable('iperf3');
  if (binary === null)
    throw new BenchError('tool_missing', { tool: 'iperf3', install: 'apt-get install iperf3' });
  return binary;
}

/** An iperf3 server on 127.0.0.1:port serving one test (-1), ready once it listens. */
export async function startIperf3Server(port: number): Promise<ManagedProcess> {
  const server = new ManagedProcess({
    name: 'iperf3 server',
    command: iperf3Binary(),
    args: ['-s', '-1', '-B', '127.0.0.1', '-p', String(port)],
  });
  try {
    await waitForListening(port, 'iperf3 server', 10_000, () => server.running);
  } catch (err) {
    server.kill();
    throw new BenchError('iperf3_failed', {
      role: 'server',
      reason: `${(err as Error).message}\n${server.describe()}`,
    });
  }
  return server;
}

export interface Iperf3ClientOptions {
  readonly port: number;
  readonly seconds: number;
}

/** One single-flow TCP run to 127.0.0.1:port; rejects with a BenchError when iperf3 fails. */
export async function runIperf3Client(options: Iperf3ClientOptions): Promise<Iperf3TcpResult> {
  const client = new ManagedProcess({
    name: 'iperf3 client',
    command: iperf3Binary(),
    args: [
      '-c',
      '127.0.0.1',
      '-p',
      String(options.port),
      '-t',
      String(options.seconds),
      '-J',
      '--connect-timeout',
      '3000',
    ],
    keepStdout: true,
  });
  const timeoutMs = (options.seconds + 20) * 1000;
  let status: Awaited<ManagedProcess['exited']>;
  try {
    status = await client.waitForExit(timeoutMs);
  } catch (err) {
    client.kill();
    throw err;
  }
  if (status.spawnError !== undefined)
    throw new BenchError('iperf3_failed', { role: 'client', reason: status.spawnError });
  try {
    return parseIperf3TcpResult(client.stdout);
  } catch (err) {
    // A report that parses says what went wrong; otherwise the exit status and stderr do.
    if (err instanceof BenchError && err.code === 'iperf3_failed') throw err;
    if (status.code !== 0) {
      throw new BenchError('iperf3_failed', {
        role: 'client',
        reason: `${describeExit(status)}: ${client.stderrTail.trim() || client.stdout.trim().slice(0, 300)}`,
      });
    }
    throw err;
  }
}
