// The one way a contender's relay process is started and stopped: spawned, waited for until it
// serves (else killed, its temp dir removed, and `contender_start_failed` thrown with its output
// tails), then stopped once with SIGTERM (SIGKILL after a grace period) and its temp dir removed.

import type { RunningContender } from '../contender.ts';
import { BENCH_ERRORS } from '../errors.ts';
import { type ManagedProcess, type ManagedProcessOptions, spawnReady } from '../managed-process.ts';
import type { TempDir } from '../temp-dir.ts';

export interface RelayProcessOptions extends ManagedProcessOptions {
  /** The contender's id, for the error when it does not start. */
  readonly contender: string;
  /** Resolves once the relay serves; rejects, saying why, when it does not. */
  readonly ready: (proc: ManagedProcess) => Promise<unknown>;
  /** Its generated config; removed when it fails to start. */
  readonly dir?: TempDir;
}

/** One relay process, spawned and ready. */
export function startRelayProcess(options: RelayProcessOptions): Promise<ManagedProcess> {
  return spawnReady({
    ...options,
    failure: (reason) =>
      BENCH_ERRORS.error('contender_start_failed', { contender: options.contender, reason }),
    ...(options.dir === undefined ? {} : { undo: options.dir.remove }),
  });
}

export interface RelayHandleOptions {
  /** The process measured (idle-memory) first, then any others the relay runs. */
  readonly processes: readonly [ManagedProcess, ...(ManagedProcess | null)[]];
  readonly connectPort: number;
  /** How long SIGTERM may take before SIGKILL. */
  readonly graceMs?: number;
  /** Runs before the processes are signalled (killing children that would outlive them). */
  readonly beforeStop?: () => void;
  /** Removed once every process is gone. */
  readonly dir?: TempDir;
}

/** The running contender over started relay processes; its stop is safe to call twice. */
export function relayHandle(options: RelayHandleOptions): RunningContender {
  const [main, ...others] = options.processes;
  let stopped = false;
  return {
    pid: main.pid,
    connectPort: options.connectPort,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      options.beforeStop?.();
      const graceMs = options.graceMs ?? 5000;
      await Promise.all([main, ...others].map((p) => p?.stop('SIGTERM', graceMs)));
      options.dir?.remove();
    },
  };
}

export interface SpawnContenderOptions extends RelayProcessOptions {
  readonly connectPort: number;
  readonly graceMs?: number;
}

/** A contender that is one relay process: started, ready, and stopped as above. */
export async function spawnContender(options: SpawnContenderOptions): Promise<RunningContender> {
  const proc = await startRelayProcess(options);
  return relayHandle({
    processes: [proc],
    connectPort: options.connectPort,
    ...(options.graceMs === undefined ? {} : { graceMs: options.graceMs }),
    ...(options.dir === undefined ? {} : { dir: options.dir }),
  });
}
