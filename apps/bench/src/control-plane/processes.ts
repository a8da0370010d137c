// The real processes of the control-plane bench: sluice-server on a temp data dir with
// kernel-chosen ports (read back from its `sluice-server ready` line) and its admin token, and
// managed sluice-edge processes (`enroll`, then `--bundle FILE --shards N --metrics ...`).

import { join } from 'node:path';
import { type ServeListenPorts, serveArgs } from '@sluice/test-kit';
import { readEdgeJson } from '../edge-json.ts';
import { BENCH_ERRORS } from '../errors.ts';
import { describeExit, ManagedProcess } from '../managed-process.ts';
import { EDGE, NODE_BIN, REPO_ROOT } from '../repo-paths.ts';
import { LoggedProcess } from './logged-process.ts';
import { ServerApi } from './server-api.ts';

export const SERVER_MAIN = join(REPO_ROOT, 'apps', 'server', 'src', 'main.ts');

/** JSON logs at info (the bench reads them), whatever the caller's environment says. */
export function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, SLUICE_LOG_FORMAT: 'json' };
  delete env.SLUICE_LOG_LEVEL;
  delete env.SLUICE_TEST_HOOKS;
  return env;
}

function portOf(address: unknown, what: string): number {
  const port = typeof address === 'string' ? Number(address.slice(address.lastIndexOf(':') + 1)) : Number.NaN;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw BENCH_ERRORS.error('contender_start_failed', {
      contender: 'sluice-server',
      reason: `no ${what} port in its ready line (${String(address)})`,
    });
  }
  return port;
}

export interface RunningServer {
  readonly proc: LoggedProcess;
  readonly pid: number;
  readonly api: ServerApi;
  readonly adminToken: string;
  readonly controlPort: number;
  readonly dataDir: string;
}

export interface StartServerOptions {
  /** `--store URL` (a PostgreSQL store shared by replicas); the data dir's SQLite file otherwise. */
  readonly store?: string;
  /** Listen ports (a replica restarted at its old addresses); the kernel picks otherwise. */
  readonly ports?: ServeListenPorts;
  /**
   * The admin token, when the store already has its admin (a second replica, a restart): the
   * server prints one only when it makes the admin.
   */
  readonly adminToken?: string;
  /** Names the process in messages and logs. */
  readonly name?: string;
}

/** `sluice-server serve` on loopback, port 0 everywhere unless told; resolves once it is ready. */
export async function startServer(dataDir: string, options: StartServerOptions = {}): Promise<RunningServer> {
  const name = options.name ?? 'sluice-server';
  const proc = new LoggedProcess({
    name,
    command: NODE_BIN,
    args: [
      SERVER_MAIN,
      ...serveArgs(dataDir, options.ports),
      ...(options.store === undefined ? [] : ['--store', options.store]),
    ],
    env: childEnv(),
    cwd: REPO_ROOT,
    logStream: 'stderr',
  });
  try {
    const ready = await proc.waitFor('sluice-server ready', () => true, 30_000);
    let token = options.adminToken;
    if (token === undefined) {
      const tokenLine = await proc.process.waitForLine(
        (line) => line.startsWith('admin token: '),
        5000,
        'the admin token',
      );
      token = tokenLine.slice('admin token: '.length).trim();
    }
    return {
      proc,
      pid: proc.pid,
      api: new ServerApi(`http://127.0.0.1:${portOf(ready.api, 'api')}`, token),
      adminToken: token,
      controlPort: portOf(ready.control, 'control'),
      dataDir,
    };
  } catch (err) {
    proc.process.kill();
    throw BENCH_ERRORS.error('contender_start_failed', {
      contender: name,
      reason: `${err instanceof Error ? err.message : String(err)}\n${proc.process.describe()}`,
    });
  }
}

/** `sluice-edge enroll URI --bundle FILE` to completion; throws unless it exits 0. */
export async function enrollRealEdge(uri: string, bundleFile: string): Promise<void> {
  const enroll = new ManagedProcess({
    name: 'sluice-edge enroll',
    command: NODE_BIN,
    args: [...EDGE.args, 'enroll', uri, '--bundle', bundleFile],
    env: { ...childEnv(), ...EDGE.env },
    cwd: REPO_ROOT,
  });
  const status = await enroll.waitForExit(30_000);
  if (status.code !== 0) {
    throw BENCH_ERRORS.error('contender_start_failed', {
      contender: 'sluice-edge enroll',
      reason: `${describeExit(status)}\n${enroll.describe()}`,
    });
  }
}

/** `sluice-edge --bundle FILE --shards N --metrics 127.0.0.1:PORT`, just spawned (not yet ready). */
/** sluice-edge's own default. */
const DEFAULT_MAX_RULES = 4096;

export function spawnRealEdge(
  bundleFile: string,
  shards: number,
  metricsPort: number,
  maxRules = DEFAULT_MAX_RULES,
  env: NodeJS.ProcessEnv = childEnv(),
): LoggedProcess {
  return new LoggedProcess({
    name: 'sluice-edge',
    command: NODE_BIN,
    args: [
      ...EDGE.args,
      '--bundle',
      bundleFile,
      '--shards',
      String(shards),
      '--max-rules',
      String(maxRules),
      '--metrics',
      `127.0.0.1:${metricsPort}`,
      '--drain-timeout',
      '1',
    ],
    env: { ...env, ...EDGE.env },
    cwd: REPO_ROOT,
    logStream: 'stdout',
  });
}

/** The rules the edge's own `/metrics?format=json` shows `active`, or null when it does not answer. */
export async function edgeActiveRules(metricsPort: number): Promise<number | null> {
  const json = await readEdgeJson(metricsPort);
  return json === null ? null : json.rules.filter((rule) => rule.state === 'active').length;
}
