// iperf3 as the traffic source of cap tests: a server per target port (one test at a time each,
// as iperf3 serves), and a client whose rate is that of its measured seconds, the first
// `omitSecs` left out (they hold the burst and the socket buffers filling), as its receiver saw it.

import { requireProgram, withTimeout } from '@sluice/test-kit';
import { type Program, startProgram } from './programs.ts';

export async function startIperf3Server(port: number): Promise<Program> {
  const server = startProgram(
    requireProgram('iperf3'),
    ['-s', '--forceflush', '-B', '127.0.0.1', '-p', String(port)],
    'iperf3 -s',
  );
  // Ready when it says it listens; bounded so a broken server fails the test instead of hanging.
  await withTimeout(
    (async () => {
      while (!server.stdout().includes('Server listening')) {
        if (server.gone()) throw new Error(server.describe());
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })(),
    5_000,
    'iperf3 -s to listen',
  );
  return server;
}

/** Runs `iperf3 -c` to `port` for `secs` after `omitSecs`; answers the rate the receiver saw, in bytes per second. */
export async function iperf3Rate(port: number, secs: number, omitSecs: number): Promise<number> {
  const client = startProgram(
    requireProgram('iperf3'),
    ['-c', '127.0.0.1', '-p', String(port), '-t', String(secs), '-O', String(omitSecs), '--json'],
    'iperf3 -c',
  );
  const exit = await withTimeout(client.exited, (secs + omitSecs + 10) * 1000, 'iperf3 -c to finish');
  if (exit.code !== 0) throw new Error(client.describe());
  const report = JSON.parse(client.stdout()) as { end: { sum_received?: { bits_per_second: number } } };
  const received = report.end.sum_received?.bits_per_second;
  if (received === undefined) throw new Error(`iperf3 reported no received rate:\n${client.describe()}`);
  return received / 8;
}
