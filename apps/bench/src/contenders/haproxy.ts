// HAProxy as a user would set it up for plain TCP forwarding: mode tcp, 2 threads, defaults
// otherwise; a generated config, run in the foreground (-db).

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Contender, RunningContender } from '../contender.ts';
import { relayMaxConnections } from '../fd-budget.ts';
import { waitForSocket } from '../ports.ts';
import { makeTempDir } from '../temp-dir.ts';
import { missingTool, requireTool } from '../tools.ts';
import { spawnContender } from './spawn-contender.ts';

const THREADS = 2;
const MAX_CONN = relayMaxConnections();

export function haproxyConfig(listenPort: number, targetPort: number): string {
  return [
    'global',
    `  nbthread ${THREADS}`,
    `  maxconn ${MAX_CONN}`,
    '',
    'defaults',
    '  mode tcp',
    '  timeout connect 3s',
    '  timeout client 1h',
    '  timeout server 1h',
    '',
    'listen bench',
    `  bind 127.0.0.1:${listenPort}`,
    `  maxconn ${MAX_CONN}`,
    `  server target 127.0.0.1:${targetPort}`,
    '',
  ].join('\n');
}

export const haproxy: Contender = {
  id: 'haproxy',
  label: `HAProxy (mode tcp, ${THREADS} threads)`,
  relay: 'user-space',
  udpNotApplicable: 'HAProxy does not relay UDP',
  description: `haproxy -db, mode tcp, nbthread ${THREADS}, maxconn ${MAX_CONN}, defaults otherwise`,

  unavailableReason: async () => missingTool('haproxy', 'haproxy'),

  async start(listenPort: number, targetPort: number): Promise<RunningContender> {
    const binary = requireTool('haproxy', 'haproxy');
    const dir = makeTempDir('haproxy');
    const configFile = join(dir.path, 'haproxy.cfg');
    writeFileSync(configFile, haproxyConfig(listenPort, targetPort));
    return spawnContender({
      contender: 'haproxy',
      name: 'haproxy',
      command: binary,
      args: ['-db', '-f', configFile],
      ready: (proc) => waitForSocket('tcp', listenPort, 'haproxy', 15_000, () => proc.running),
      connectPort: listenPort,
      dir,
    });
  },
};
