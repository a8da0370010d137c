// A naive socket.pipe() proxy in a Node process of its own (processes/naive-pipe-proxy.ts):
// the floor the JS path of sluice must at least reach.

import { join } from 'node:path';
import type { Contender, RunningContender } from '../contender.ts';
import { BENCH_ERRORS } from '../errors.ts';
import { ManagedProcess } from '../managed-process.ts';
import { NODE_BIN } from '../repo-paths.ts';

const PROXY_SCRIPT = join(import.meta.dirname, '..', 'processes', 'naive-pipe-proxy.ts');

export const naivePipe: Contender = {
  id: 'naive-pipe',
  label: 'naive pipe (node)',
  relay: 'user-space',
  description: 'Node net server: client.pipe(upstream); upstream.pipe(client), one process',
  udpNotApplicable: 'a TCP stream proxy (net.Server)',
  unavailableReason: async () => null,

  async start(listenPort: number, targetPort: number): Promise<RunningContender> {
    const proc = new ManagedProcess({
      name: 'naive-pipe',
      command: NODE_BIN,
      args: [PROXY_SCRIPT, String(listenPort), String(targetPort)],
    });
    try {
      await proc.waitForLine((line) => line === 'listening', 15_000, 'the "listening" line');
    } catch (err) {
      proc.kill();
      throw BENCH_ERRORS.error('contender_start_failed', {
        contender: 'naive-pipe',
        reason: `${(err as Error).message}\n${proc.describe()}`,
      });
    }
    return {
      pid: proc.pid,
      connectPort: listenPort,
      stop: async () => void (await proc.stop('SIGTERM', 5000)),
    };
  },
};
