// One iperf3 run through a contender, all in fresh processes: a one-off iperf3 server on
// 127.0.0.1:T (the target), the contender from L to T, the client to whatever port the
// contender gives. The server is killed at exit if the bench ends first.

import { type Iperf3Result, type Iperf3RunOptions, runIperf3, startIperf3Server } from '@sluice/iperf3';
import { onCleanup } from '../cleanup.ts';
import type { Contender } from '../contender.ts';
import { freePorts } from '../ports.ts';
import { withContender } from './scenario.ts';

export type Iperf3ThroughOptions = Omit<Iperf3RunOptions, 'port' | 'host' | 'signal'>;

/** A one-off iperf3 server on a free target port, and a free listen port for the contender. */
export async function withIperf3Target<T>(
  body: (ports: { readonly listenPort: number; readonly targetPort: number }) => Promise<T>,
): Promise<T> {
  const [listenPort, targetPort] = (await freePorts(2)) as [number, number];
  const server = await startIperf3Server({ port: targetPort, oneOff: true });
  const unregister = onCleanup(() => server.kill());
  try {
    return await body({ listenPort, targetPort });
  } finally {
    await server.stop();
    unregister();
  }
}

export async function iperf3Through(
  contender: Contender,
  options: Iperf3ThroughOptions,
): Promise<Iperf3Result> {
  return withIperf3Target(({ listenPort, targetPort }) =>
    withContender(
      contender,
      listenPort,
      targetPort,
      (running) => runIperf3({ ...options, port: running.connectPort }),
      { udp: options.udp ?? false },
    ),
  );
}
