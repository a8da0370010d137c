// Managed sluice-edge processes: `sluice-edge enroll URI --bundle FILE` to completion, then
// `sluice-edge --bundle FILE --shards 1 --metrics 127.0.0.1:PORT` as a child process whose JSON
// log lines are parsed (EdgeProcess), SIGKILLed by the test's cleanup. Also SIGSTOP with the
// SIGCONT registered in the cleanup, for an edge that stalls.

import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { freePort } from '@sluice/test-kit';
import { deferCleanup } from './cleanup.ts';
import { type CommandResult, EDGE_MAIN, EdgeProcess, REPO_ROOT, runEdgeCommand } from './edge-process.ts';
import { MetricsClient } from './metrics.ts';

/** `sluice-edge enroll URI --bundle FILE`, whatever it answers. */
export function enrollCommand(uri: string, bundleFile: string): Promise<CommandResult> {
  return runEdgeCommand(['enroll', uri, '--bundle', bundleFile]);
}

/** Enrolls and checks the outcome: exit 0, the bundle at mode 0600. Answers the bundle path. */
export async function enrollEdge(uri: string, bundleFile: string): Promise<string> {
  const result = await enrollCommand(uri, bundleFile);
  if (result.code !== 0) {
    throw new Error(`sluice-edge enroll exited ${result.code}: ${result.stderr}${result.stdout}`);
  }
  if (!result.stdout.includes(`bundle written to ${bundleFile} (mode 0600`)) {
    throw new Error(`sluice-edge enroll said: ${result.stdout}`);
  }
  const mode = statSync(bundleFile).mode & 0o777;
  if (mode !== 0o600) throw new Error(`bundle ${bundleFile} has mode ${mode.toString(8)}, not 600`);
  return bundleFile;
}

export interface ManagedEdgeHandle {
  readonly process: EdgeProcess;
  readonly bundle: string;
  readonly metricsPort: number;
  readonly metrics: MetricsClient;
}

export interface StartManagedEdgeOptions {
  /** Default: a free port. Pass the port of a previous run to restart on it. */
  readonly metricsPort?: number;
  /** Wait for the `control connected` log line too (default true). */
  readonly waitConnected?: boolean;
  /** More environment (SLUICE_NO_SPLICE=1 for the JS relay path). */
  readonly env?: Readonly<Record<string, string>>;
}

/** `sluice-edge --bundle FILE --shards 1 --metrics ...`, ready (and connected) before it resolves. */
export async function startManagedEdge(
  bundle: string,
  options: StartManagedEdgeOptions = {},
): Promise<ManagedEdgeHandle> {
  const metricsPort = options.metricsPort ?? (await freePort());
  const env: NodeJS.ProcessEnv = { ...process.env, SLUICE_LOG_FORMAT: 'json', ...options.env };
  delete env.SLUICE_LOG_LEVEL;
  delete env.SLUICE_TEST_HOOKS;
  const child = spawn(
    process.execPath,
    [EDGE_MAIN, '--bundle', bundle, '--shards', '1', '--metrics', `127.0.0.1:${metricsPort}`],
    { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const edge = new EdgeProcess(child);
  deferCleanup(() => edge.kill());
  await edge.waitForMsg('edge ready', { mode: 'managed' }, 20_000);
  if (options.waitConnected ?? true) await edge.waitForMsg('control connected', {}, 15_000);
  return { process: edge, bundle, metricsPort, metrics: new MetricsClient(metricsPort) };
}

/**
 * Stops an edge with SIGSTOP (it keeps its sockets but reads nothing) and answers the function
 * that resumes it; the cleanup resumes it too, so a failed test never leaves it stopped. An edge
 * that has exited meanwhile gets no signal.
 */
export function pauseProcess(edge: EdgeProcess): () => void {
  let paused = true;
  const resume = (): void => {
    if (!paused) return;
    paused = false;
    if (edge.child.exitCode === null && edge.child.signalCode === null) edge.child.kill('SIGCONT');
  };
  deferCleanup(resume);
  edge.child.kill('SIGSTOP');
  return resume;
}

/** The names of the rules the edge runs, by state, from its /metrics?format=json. */
export async function edgeRuleStates(edge: ManagedEdgeHandle): Promise<Record<string, string>> {
  const json = await edge.metrics.json();
  return Object.fromEntries(json.rules.map((rule) => [rule.name, rule.state]));
}
