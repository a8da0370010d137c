// socat as a user would set it up to forward a port: one process that forks a child per TCP
// connection (and, with `udp`, a second one that forks a child per UDP peer, on the same port).

import type { Contender, RunningContender, StartOptions } from '../contender.ts';
import type { ManagedProcess } from '../managed-process.ts';
import { waitForSocket } from '../ports.ts';
import { killLeftovers, processTree } from '../rss.ts';
import { missingTool, requireTool } from '../tools.ts';
import { relayHandle, startRelayProcess } from './spawn-contender.ts';

/** socat's transfer buffer; its 8192-byte default would cut longer UDP datagrams. */
const BUFFER_BYTES = 65_536;

export function socatTcpArgs(listenPort: number, targetPort: number): string[] {
  return [
    '-b',
    String(BUFFER_BYTES),
    `TCP4-LISTEN:${listenPort},bind=127.0.0.1,reuseaddr,fork,backlog=4096`,
    `TCP4:127.0.0.1:${targetPort}`,
  ];
}

export function socatUdpArgs(listenPort: number, targetPort: number): string[] {
  return [
    '-b',
    String(BUFFER_BYTES),
    // -T: a UDP child with nothing to relay for this long exits.
    '-T',
    '60',
    `UDP4-LISTEN:${listenPort},bind=127.0.0.1,reuseaddr,fork`,
    `UDP4:127.0.0.1:${targetPort}`,
  ];
}

export const socat: Contender = {
  id: 'socat',
  label: 'socat (fork)',
  relay: 'user-space',
  description: `socat -b ${BUFFER_BYTES} TCP4-LISTEN:L,fork TCP4:T (UDP: UDP4-LISTEN:L,fork UDP4:T), a process per connection`,

  unavailableReason: async () => missingTool('socat', 'socat'),

  async start(listenPort: number, targetPort: number, options: StartOptions = {}): Promise<RunningContender> {
    const binary = requireTool('socat', 'socat');
    const tcp = await startRelayProcess({
      contender: 'socat',
      name: 'socat tcp',
      command: binary,
      args: socatTcpArgs(listenPort, targetPort),
      ready: (p) => waitForSocket('tcp', listenPort, 'socat tcp', 10_000, () => p.running),
    });
    let udp: ManagedProcess | null = null;
    if (options.udp) {
      try {
        udp = await startRelayProcess({
          contender: 'socat',
          name: 'socat udp',
          command: binary,
          args: socatUdpArgs(listenPort, targetPort),
          ready: (p) => waitForSocket('udp', listenPort, 'socat udp', 10_000, () => p.running),
        });
      } catch (err) {
        tcp.kill();
        throw err;
      }
    }
    // The TCP listener and its forked children are measured; the UDP one is not (idle-memory is TCP).
    return relayHandle({
      processes: [tcp, udp],
      connectPort: listenPort,
      graceMs: 3000,
      // A TCP child exits when its connection closes, which the scenario did before stopping;
      // a UDP child only after -T seconds without traffic. Children still there are killed by
      // pid first: they hold the parent's stdout, so the parent's end would wait for them.
      beforeStop: () =>
        killLeftovers(
          [tcp, udp].flatMap((p) => (p?.running ? processTree(p.pid).slice(1) : [])),
          'socat',
        ),
    });
  },
};
