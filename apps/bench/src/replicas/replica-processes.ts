// The processes of the replicas bench: a throwaway PostgreSQL cluster (@sluice/test-kit's
// startPgCluster: initdb + pg_ctl in a temp dir), a database per measured set-up, and two
// sluice-server replicas on it. Replica A starts first on the empty database (it makes the
// certificate and the admin), `sluice-server prepare-replica` gives B's data dir A's certificate
// and key, and B starts on the same store. Each replica keeps the ports it was given, so A can be
// SIGKILLed and started again at the same addresses (its edges' bundles list them).

import { execFile, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { type PgCluster, pgBinDir, type ServeListenPorts, startPgCluster } from '@sluice/test-kit';
import { onCleanup } from '../cleanup.ts';
import { childEnv, type RunningServer, SERVER_MAIN, startServer } from '../control-plane/processes.ts';
import { describeExit, ManagedProcess } from '../managed-process.ts';
import { freePorts } from '../ports.ts';
import { NODE_BIN, REPO_ROOT } from '../repo-paths.ts';

const run = promisify(execFile);

/** The cluster, stopped at the end of the run or, synchronously, by the bench's exit cleanups. */
export async function startBenchPgCluster(): Promise<PgCluster> {
  const cluster = await startPgCluster();
  const unregister = onCleanup(() => {
    const pgCtl = [
      join(pgBinDir(), 'pg_ctl'),
      '-D',
      join(cluster.dir, 'data'),
      '-m',
      'immediate',
      '-w',
      'stop',
    ];
    const [command, ...args] = userInfo().uid === 0 ? ['runuser', '-u', 'postgres', '--', ...pgCtl] : pgCtl;
    spawnSync(command!, args, { stdio: 'ignore' });
    rmSync(cluster.dir, { recursive: true, force: true });
  });
  return {
    ...cluster,
    async stop() {
      unregister();
      await cluster.stop();
    },
  };
}

/** Runs SQL in `url`'s database through psql; answers its rows, fields split on `|`. */
export async function psql(url: string, sql: string): Promise<string[][]> {
  const { stdout } = await run('psql', [url, '-XAtq', '-F', '|', '-v', 'ON_ERROR_STOP=1', '-c', sql]);
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.split('|'));
}

let databases = 0;

/** A new empty database in the cluster; answers its URL. */
export async function createDatabase(cluster: PgCluster, purpose: string): Promise<string> {
  const name = `bench_${purpose}_${process.pid}_${++databases}`;
  await psql(cluster.url, `CREATE DATABASE ${name}`);
  return cluster.url.replace(/\/postgres$/, `/${name}`);
}

/** `sluice-server ARGS` to completion; throws unless it exits 0. */
async function serverCommand(args: readonly string[]): Promise<void> {
  const command = new ManagedProcess({
    name: `sluice-server ${args[0]}`,
    command: NODE_BIN,
    args: [SERVER_MAIN, ...args],
    env: childEnv(),
    cwd: REPO_ROOT,
  });
  const status = await command.waitForExit(30_000);
  if (status.code !== 0) {
    throw new Error(`sluice-server ${args.join(' ')}: ${describeExit(status)}\n${command.describe()}`);
  }
}

export interface Replica {
  readonly label: 'A' | 'B';
  readonly dataDir: string;
  readonly ports: ServeListenPorts;
  server: RunningServer;
  /** Date.now() of the last SIGKILL. */
  killedAt: number | null;
}

/**
 * How long a SIGKILLed replica's heartbeat row still counts as live (apps/server's
 * DEAD_AFTER_MS, 6 s), and a margin. A replica started again at the same control address before
 * then is listed twice in enrollment URIs and welcomes (the live rows are not told apart by
 * address), which the edge refuses: the bench waits this long before a restart.
 */
const DEAD_AFTER_MS = 6_000 + 1_000;

export interface ReplicaPair {
  readonly store: string;
  readonly token: string;
  readonly a: Replica;
  readonly b: Replica;
}

async function heldPorts(): Promise<ServeListenPorts> {
  const [control, api, metrics] = await freePorts(3);
  return { control: control!, api: api!, metrics: metrics! };
}

/** A on `store` (a new database), then B with A's certificate; both ready. */
export async function startReplicaPair(dir: string, store: string): Promise<ReplicaPair> {
  const aDir = join(dir, 'a');
  const bDir = join(dir, 'b');
  const aPorts = await heldPorts();
  const aServer = await startServer(aDir, { store, ports: aPorts, name: 'sluice-server A' });
  const token = aServer.adminToken;
  await serverCommand(['prepare-replica', bDir, '--from', aDir]);
  const bPorts = await heldPorts();
  const bServer = await startServer(bDir, {
    store,
    ports: bPorts,
    adminToken: token,
    name: 'sluice-server B',
  });
  return {
    store,
    token,
    a: { label: 'A', dataDir: aDir, ports: aPorts, server: aServer, killedAt: null },
    b: { label: 'B', dataDir: bDir, ports: bPorts, server: bServer, killedAt: null },
  };
}

/** SIGKILL; answers Date.now() just before the signal went out. */
export async function killReplica(replica: Replica): Promise<number> {
  const at = Date.now();
  replica.server.proc.process.child.kill('SIGKILL');
  await replica.server.proc.process.exited;
  replica.killedAt = at;
  return at;
}

/** Starts a killed replica again on its data dir, store and ports, once its old row is dead. */
export async function restartReplica(replica: Replica, pair: ReplicaPair): Promise<void> {
  const wait = (replica.killedAt ?? 0) + DEAD_AFTER_MS - Date.now();
  if (wait > 0) await sleep(wait);
  replica.server = await startServer(replica.dataDir, {
    store: pair.store,
    ports: replica.ports,
    adminToken: pair.token,
    name: `sluice-server ${replica.label}`,
  });
}

export async function stopReplicas(pair: ReplicaPair | null): Promise<void> {
  if (pair === null) return;
  await Promise.all([pair.a, pair.b].map((r) => r.server.proc.process.stop('SIGTERM', 10_000)));
}

/** `host:port` of a replica's control listener, as the edge logs it. */
export const controlLabel = (replica: Replica): string => `127.0.0.1:${replica.ports.control}`;
