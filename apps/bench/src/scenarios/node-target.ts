// The echo and HTTP targets, each a Node process of its own (processes/echo-server.ts,
// processes/http-server.ts), started fresh for every run like the contender in front of it.

import { join } from 'node:path';
import type { Contender } from '../contender.ts';
import { BENCH_ERRORS } from '../errors.ts';
import { listeningLine, type ManagedProcess, spawnReady } from '../managed-process.ts';
import { freePorts } from '../ports.ts';
import { NODE_BIN } from '../repo-paths.ts';
import { withContender } from './scenario.ts';

export type NodeTargetKind = 'echo' | 'http';

const SCRIPTS: Record<NodeTargetKind, string> = {
  echo: join(import.meta.dirname, '..', 'processes', 'echo-server.ts'),
  http: join(import.meta.dirname, '..', 'processes', 'http-server.ts'),
};

function startNodeTarget(kind: NodeTargetKind, port: number): Promise<ManagedProcess> {
  return spawnReady({
    name: `${kind} target`,
    command: NODE_BIN,
    args: [SCRIPTS[kind], String(port)],
    ready: listeningLine,
    failure: (reason) => BENCH_ERRORS.error('target_failed', { target: kind, reason }),
  });
}

/**
 * One run of a load against `contender` in front of a fresh `kind` target: both started on free
 * ports, `body` given the port to load, both stopped afterwards whatever happens.
 */
export async function throughNodeTarget<T>(
  kind: NodeTargetKind,
  contender: Contender,
  body: (connectPort: number) => Promise<T>,
): Promise<T> {
  const [listenPort, targetPort] = (await freePorts(2)) as [number, number];
  const target = await startNodeTarget(kind, targetPort);
  try {
    return await withContender(contender, listenPort, targetPort, (running) => body(running.connectPort));
  } finally {
    await target.stop('SIGTERM', 3000);
  }
}
