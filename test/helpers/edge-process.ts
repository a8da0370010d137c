// The standalone edge as a real child process: `node apps/edge/bin/sluice-edge.js --config FILE`, its
// pino JSON log lines parsed as they arrive (the kit's LogProcess), waits on log events with
// deadlines, signals, and a SIGKILL in the test's cleanup for whatever is still running.

import { type ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { killOnExit, LogProcess, requireProgram } from '@sluice/test-kit';
import { deferCleanup } from './cleanup.ts';
import { type CommandResult, commandResult } from './command-result.ts';
import { type RelayPath, relayPathEnv } from './relay-paths.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
/** The edge's entry: the bin, which serves its TypeScript pre-stripped (as `./run edge` does). */
export const EDGE_MAIN = join(REPO_ROOT, 'apps', 'edge', 'bin', 'sluice-edge.js');

/** The edge's pino JSON lines come on stdout; stderr is kept as text for failure messages. */
export class EdgeProcess extends LogProcess {
  constructor(child: ChildProcess) {
    super(child, { name: 'edge', logStream: 'stdout' });
  }

  get stderr(): string {
    return this.otherOutput;
  }
}

/** The edge runs from its TypeScript source, so the Node running the tests must strip types. */
function edgeNode(): string {
  const features = process.features as { typescript?: string | false };
  if (!features.typescript) {
    throw new Error(
      `${process.execPath} (Node ${process.version}) cannot run TypeScript; run the tests through ./run (Node 24)`,
    );
  }
  return process.execPath;
}

function edgeEnv(relayPath: RelayPath, extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // The relay path and the test hooks are chosen per test, never inherited.
  delete env.SLUICE_NO_SPLICE;
  delete env.SLUICE_NO_NATIVE_ACCEPT;
  delete env.SLUICE_TEST_HOOKS;
  return { ...env, ...relayPathEnv(relayPath), ...extra };
}

export interface StartEdgeOptions {
  readonly configFile: string;
  readonly relayPath: RelayPath;
  readonly env?: Record<string, string>;
  /** Wait for the "edge ready" line before resolving (default true). */
  readonly waitReady?: boolean;
  readonly readyTimeoutMs?: number;
  /** Node flags before the entry (`--import` of a recorder); the shards inherit them. */
  readonly nodeArgs?: readonly string[];
  /**
   * Runs the edge under this descriptor limit (RLIMIT_NOFILE soft and hard), through prlimit
   * (util-linux), which execs the edge: the edge's pid is the child's.
   */
  readonly nofile?: { readonly soft: number; readonly hard: number };
  /** Runs the edge in this network namespace (`ip netns exec`, which execs: the pid is the edge's). */
  readonly netns?: string;
  /** Starts the edge by this program (a release-style launcher script) instead of Node and the bin. */
  readonly launcher?: string;
}

/** The program and arguments that run the edge, under `nofile` when given. */
function edgeCommand(options: StartEdgeOptions): [string, string[]] {
  const [program, args] = nodeOrLauncher(options);
  if (options.netns !== undefined) {
    return [requireProgram('ip', 'iproute2'), ['netns', 'exec', options.netns, program, ...args]];
  }
  if (options.nofile === undefined) return [program, args];
  const { soft, hard } = options.nofile;
  return [requireProgram('prlimit', 'util-linux'), [`--nofile=${soft}:${hard}`, '--', program, ...args]];
}

function nodeOrLauncher(options: StartEdgeOptions): [string, string[]] {
  if (options.launcher !== undefined) return [options.launcher, ['--config', options.configFile]];
  return [edgeNode(), [...(options.nodeArgs ?? []), EDGE_MAIN, '--config', options.configFile]];
}

/** Starts the edge; it is SIGKILLed by the test's cleanup if still running. */
export async function startEdge(options: StartEdgeOptions): Promise<EdgeProcess> {
  const [program, args] = edgeCommand(options);
  const child = spawn(program, args, {
    cwd: REPO_ROOT,
    env: edgeEnv(options.relayPath, options.env ?? {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const edge = new EdgeProcess(child);
  deferCleanup(() => edge.kill());
  if (options.waitReady ?? true) {
    const ready = await edge.waitForMsg('edge ready', {}, options.readyTimeoutMs ?? 20_000);
    // A test of one relay path must not pass on the other: the addon failing to build would
    // otherwise turn every splice test into a second run of the JS path.
    if (ready.relay !== options.relayPath) {
      throw new Error(
        `edge runs relay path ${String(ready.relay)} (${String(ready.splice)}), the test asked for ${options.relayPath}`,
      );
    }
  }
  return edge;
}

export type { CommandResult } from './command-result.ts';

/** Runs the edge binary with `args` to completion (e.g. `--check --config FILE`). */
export function runEdgeCommand(args: readonly string[], timeoutMs = 20_000): Promise<CommandResult> {
  const child = spawn(edgeNode(), [EDGE_MAIN, ...args], {
    cwd: REPO_ROOT,
    env: edgeEnv('js', {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killOnExit(child);
  return commandResult(child, `sluice-edge ${args.join(' ')}`, timeoutMs);
}
