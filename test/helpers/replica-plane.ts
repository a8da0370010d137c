// Two sluice-server replicas on one PostgreSQL database, as real processes: replica A starts
// first on an empty database (it makes the certificate and the admin), `sluice-server
// prepare-replica` gives B's data dir A's certificate and key, and B starts on the same store.
// The cluster is the test file's (startPgCluster); each plane gets a database of its own.

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { PgCluster } from '@sluice/test-kit';
import { ApiClient } from './api-client.ts';
import { adminTokenOf, runServerCommand, type ServerProcess, startServer } from './server-process.ts';
import { makeTempDir } from './temp-dir.ts';

const run = promisify(execFile);

let databases = 0;

/** psql on `url` (a postgres:// URL), stopping at the first error; answers its output unaligned. */
function psql(url: string, sql: string) {
  return run('psql', ['-d', url, '-v', 'ON_ERROR_STOP=1', '-At', '-c', sql]);
}

/** A new empty database in the cluster (named `name`, by default one of its own); answers its URL. */
export async function createDatabase(
  cluster: PgCluster,
  name = `plane_${process.pid}_${++databases}`,
): Promise<string> {
  await psql(cluster.url, `CREATE DATABASE ${name}`);
  return cluster.url.replace(/\/postgres$/, `/${name}`);
}

/** What a one-value query answers, as psql prints it (`SELECT count(*) FROM users`: `3`). */
export async function queryValue(url: string, sql: string): Promise<string> {
  return (await psql(url, sql)).stdout.trim();
}

export interface ReplicaPlane {
  readonly dir: string;
  readonly store: string;
  readonly token: string;
  readonly a: ServerProcess;
  readonly b: ServerProcess;
  readonly apiA: ApiClient;
  readonly apiB: ApiClient;
}

export async function startReplicaPlane(cluster: PgCluster, configToml?: string): Promise<ReplicaPlane> {
  const dir = makeTempDir();
  const store = await createDatabase(cluster);
  const config = configToml === undefined ? {} : { configToml };
  const a = await startServer({ dataDir: join(dir, 'a'), args: ['--store', store], ...config });
  const token = await adminTokenOf(a);
  const prepared = await runServerCommand(['prepare-replica', join(dir, 'b'), '--from', join(dir, 'a')]);
  if (prepared.code !== 0) throw new Error(`prepare-replica exited ${prepared.code}: ${prepared.stderr}`);
  const b = await startServer({ dataDir: join(dir, 'b'), args: ['--store', store], ...config });
  return {
    dir,
    store,
    token,
    a,
    b,
    apiA: new ApiClient(a.apiUrl, token),
    apiB: new ApiClient(b.apiUrl, token),
  };
}

/** The enrollment URI with only one control address: `port`'s. */
export function uriFor(uri: string, port: number): string {
  return uri.replace(/^sluice:\/\/[^/]+/, `sluice://127.0.0.1:${port}`);
}
