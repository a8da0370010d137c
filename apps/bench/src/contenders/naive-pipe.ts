// A naive socket.pipe() proxy in a Node process of its own (processes/naive-pipe-proxy.ts):
// the floor the JS path of sluice must at least reach.

import { join } from 'node:path';
import type { Contender, RunningContender } from '../contender.ts';
import { listeningLine } from '../managed-process.ts';
import { NODE_BIN } from '../repo-paths.ts';
import { spawnContender } from './spawn-contender.ts';

const PROXY_SCRIPT = join(import.meta.dirname, '..', 'processes', 'naive-pipe-proxy.ts');

export const naivePipe: Contender = {
  id: 'naive-pipe',
  label: 'naive pipe (node)',
  relay: 'user-space',
  description: 'Node net server: client.pipe(upstream); upstream.pipe(client), one process',
  udpNotApplicable: 'a TCP stream proxy (net.Server)',
  unavailableReason: async () => null,

  start: (listenPort: number, targetPort: number): Promise<RunningContender> =>
    spawnContender({
      contender: 'naive-pipe',
      name: 'naive-pipe',
      command: NODE_BIN,
      args: [PROXY_SCRIPT, String(listenPort), String(targetPort)],
      ready: listeningLine,
      connectPort: listenPort,
    }),
};
