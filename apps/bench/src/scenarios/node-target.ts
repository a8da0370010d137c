// The echo and HTTP targets, each a Node process of its own (processes/echo-server.ts,
// processes/http-server.ts), started fresh for every run like the contender in front of it.

import { join } from 'node:path';
import { BENCH_ERRORS } from '../errors.ts';
import { ManagedProcess } from '../managed-process.ts';
import { NODE_BIN } from '../repo-paths.ts';

export type NodeTargetKind = 'echo' | 'http';

const SCRIPTS: Record<NodeTargetKind, string> = {
  echo: join(import.meta.dirname, '..', 'processes', 'echo-server.ts'),
  http: join(import.meta.dirname, '..', 'processes', 'http-server.ts'),
};

export async function startNodeTarget(kind: NodeTargetKind, port: number): Promise<ManagedProcess> {
  const proc = new ManagedProcess({
    name: `${kind} target`,
    command: NODE_BIN,
    args: [SCRIPTS[kind], String(port)],
  });
  try {
    await proc.waitForLine((line) => line === 'listening', 15_000, 'the "listening" line');
  } catch (err) {
    proc.kill();
    throw BENCH_ERRORS.error('target_failed', {
      target: kind,
      reason: `${(err as Error).message}\n${proc.describe()}`,
    });
  }
  return proc;
}
