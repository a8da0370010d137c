// The baseline: the client talks to the target itself, nothing in between.

import type { Contender, RunningContender } from '../contender.ts';

export const direct: Contender = {
  id: 'direct',
  label: 'direct',
  relay: 'none',
  description: 'client connects straight to the target',
  unavailableReason: async () => null,
  async start(_listenPort: number, targetPort: number): Promise<RunningContender> {
    return { pid: null, connectPort: targetPort, stop: async () => {} };
  },
};
