// A real HAProxy (TCP mode) from a config the test writes: started in the foreground (-db) from
// a scratch directory, ready once every listen port accepts, SIGKILLed by the test's cleanup.
// The readiness probes connect and close at once: start HAProxy before whatever it forwards to
// (the edge, a target) when that must not see them.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { haproxyConfig, pollUntil, requireProgram } from '@sluice/test-kit';
import { type Program, startProgram } from './programs.ts';
import { connectError } from './tcp-client.ts';
import { makeTempDir } from './temp-dir.ts';

/**
 * Runs HAProxy with `sections` (its `listen` blocks) after a fixed global and defaults part;
 * resolves once each of `listenPorts` accepts connections.
 */
export async function startHaproxy(sections: string, listenPorts: readonly number[]): Promise<Program> {
  const binary = requireProgram('haproxy');
  const config = join(makeTempDir(), 'haproxy.cfg');
  writeFileSync(config, haproxyConfig(sections));
  const haproxy = startProgram(binary, ['-db', '-f', config], 'haproxy');
  for (const port of listenPorts) {
    const state = await pollUntil(
      async () => (haproxy.gone() ? 'exited' : (await connectError(port, 1_000)) === null && 'listening'),
      { timeoutMs: 15_000, what: `haproxy to listen on ${port} (${haproxy.describe()})` },
    );
    if (state === 'exited') throw new Error(`haproxy exited: ${haproxy.describe()}`);
  }
  return haproxy;
}
