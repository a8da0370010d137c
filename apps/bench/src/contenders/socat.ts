// socat as a user would set it up to forward a port: one process that forks a child per TCP
// connection (and, with `udp`, a second one that forks a child per UDP peer, on the same port).

import type { Contender, RunningContender, StartOptions } from '../contender.ts';
import { BENCH_ERRORS } from '../errors.ts';
import { ManagedProcess } from '../managed-process.ts';
import { waitForListening, waitForUdpBound } from '../ports.ts';
import { killLeftovers, processTree } from '../rss.ts';
import { findExecutable } from '../tools.ts';

export const SOCAT_INSTALL = 'apt-get install -y socat';
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

async function startOne(
  binary: string,
  name: string,
  args: string[],
  ready: (proc: ManagedProcess) => Promise<void>,
): Promise<ManagedProcess> {
  const proc = new ManagedProcess({ name, command: binary, args });
  try {
    await ready(proc);
  } catch (err) {
    proc.kill();
    throw BENCH_ERRORS.error('contender_start_failed', {
      contender: 'socat',
      reason: `${(err as Error).message}\n${proc.describe()}`,
    });
  }
  return proc;
}

export const socat: Contender = {
  id: 'socat',
  label: 'socat (fork)',
  relay: 'user-space',
  description: `socat -b ${BUFFER_BYTES} TCP4-LISTEN:L,fork TCP4:T (UDP: UDP4-LISTEN:L,fork UDP4:T), a process per connection`,

  async unavailableReason(): Promise<string | null> {
    return findExecutable('socat') === null ? `socat is not installed (${SOCAT_INSTALL})` : null;
  },

  async start(listenPort: number, targetPort: number, options: StartOptions = {}): Promise<RunningContender> {
    const binary = findExecutable('socat');
    if (binary === null) throw BENCH_ERRORS.error('tool_missing', { tool: 'socat', install: SOCAT_INSTALL });
    const tcp = await startOne(binary, 'socat tcp', socatTcpArgs(listenPort, targetPort), (p) =>
      waitForListening(listenPort, 'socat tcp', 10_000, () => p.running),
    );
    let udp: ManagedProcess | null = null;
    if (options.udp) {
      try {
        udp = await startOne(binary, 'socat udp', socatUdpArgs(listenPort, targetPort), (p) =>
          waitForUdpBound(listenPort, 'socat udp', 10_000, () => p.running),
        );
      } catch (err) {
        tcp.kill();
        throw err;
      }
    }
    let stopped = false;
    return {
      // The TCP listener and its forked children; the UDP one is not measured (idle-memory is TCP).
      pid: tcp.pid,
      connectPort: listenPort,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        // A TCP child exits when its connection closes, which the scenario did before stopping;
        // a UDP child only after -T seconds without traffic. Children still there are killed by
        // pid first: they hold the parent's stdout, so the parent's end would wait for them.
        const children = [tcp, udp].flatMap((p) => (p?.running ? processTree(p.pid).slice(1) : []));
        killLeftovers(children, 'socat');
        await Promise.all([tcp.stop('SIGTERM', 3000), udp?.stop('SIGTERM', 3000)]);
      },
    };
  },
};
