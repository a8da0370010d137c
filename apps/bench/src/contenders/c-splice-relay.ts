// A minimal C splice relay (c/splice-relay.c: one blocking thread per direction, 1 MiB pipes),
// compiled with cc at bench time: the ceiling any user-space relay can reach on this host.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Contender, RunningContender } from '../contender.ts';
import { BENCH_ERRORS } from '../errors.ts';
import { listeningLine } from '../managed-process.ts';
import { makeTempDir, type TempDir } from '../temp-dir.ts';
import { findExecutable, installHint, missingTool } from '../tools.ts';
import { spawnContender } from './spawn-contender.ts';

const SOURCE = join(import.meta.dirname, '..', '..', 'c', 'splice-relay.c');

let built: { dir: TempDir; binary: string } | null = null;

function build(): string {
  if (built) return built.binary;
  const cc = findExecutable('cc');
  if (!cc) throw BENCH_ERRORS.error('tool_missing', { tool: 'cc', install: installHint('gcc') });
  const dir = makeTempDir('c-splice');
  const binary = join(dir.path, 'splice-relay');
  const result = spawnSync(cc, ['-O2', '-pthread', '-o', binary, SOURCE], { encoding: 'utf8' });
  if (result.status !== 0) {
    dir.remove();
    throw BENCH_ERRORS.error('contender_start_failed', {
      contender: 'c-splice',
      reason: `cc failed: ${result.stderr || result.error?.message}`,
    });
  }
  built = { dir, binary };
  return binary;
}

export const cSpliceRelay: Contender = {
  id: 'c-splice',
  label: 'C splice relay (ceiling)',
  relay: 'user-space',
  description: 'c/splice-relay.c: blocking splice(2), one thread per direction, 1 MiB pipes',
  idleMemoryNote: 'a throughput ceiling only: two threads per connection, not built to hold thousands',
  udpNotApplicable: 'a TCP splice(2) relay',
  unavailableReason: async () =>
    process.platform !== 'linux' ? 'splice(2) is Linux-only' : missingTool('cc', 'gcc'),

  start: (listenPort: number, targetPort: number): Promise<RunningContender> =>
    spawnContender({
      contender: 'c-splice',
      name: 'c-splice',
      command: build(),
      args: [String(listenPort), String(targetPort)],
      ready: listeningLine,
      connectPort: listenPort,
    }),
};
