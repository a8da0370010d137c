// A throwaway PostgreSQL cluster for tests: initdb into a temp dir, pg_ctl start on a free
// loopback port with its socket in that dir, and stop plus removal at the end. Debian's own
// binaries, no container. initdb and postgres refuse to run as root, so as root the cluster
// belongs to the `postgres` system user the package creates, and runs as that user.

import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, readdirSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.ts';
import { removeDir, tempDir } from './temp-dir.ts';

const run = promisify(execFile);

/** Debian puts each major version's server binaries under /usr/lib/postgresql/VERSION/bin. */
const PG_LIB = '/usr/lib/postgresql';

export interface PgCluster {
  /** postgres://sluice@127.0.0.1:PORT/postgres (trust authentication on loopback). */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** Shuts the server down (fast: clients are cut off), keeping the cluster for `resume`. */
  halt(): Promise<void>;
  /** Starts the halted server again on the same port. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

/** The newest installed server's bin dir, or an error naming the package to install. */
export function pgBinDir(): string {
  const versions = existsSync(PG_LIB)
    ? readdirSync(PG_LIB)
        .filter((v) => existsSync(join(PG_LIB, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error(
      'PostgreSQL is not installed, and these tests need it: apt-get install -y postgresql ' +
        '(scripts/system-deps.sh test installs it when run as root)',
    );
  }
  return join(PG_LIB, versions[0]!, 'bin');
}

/** Runs a server binary, as `postgres` when we are root. */
function asOwner(root: boolean, program: string, args: readonly string[]) {
  return root ? run('runuser', ['-u', 'postgres', '--', program, ...args]) : run(program, [...args]);
}

export async function startPgCluster(): Promise<PgCluster> {
  const bin = pgBinDir();
  const root = userInfo().uid === 0;
  const dir = tempDir('sluice-pg-');
  const data = join(dir, 'data');
  if (root) {
    // The temp dir is root's; the cluster and its socket live in it, so postgres must own it.
    const { uid, gid } = await postgresIds();
    chownSync(dir, uid, gid);
    chmodSync(dir, 0o700);
  }
  const port = await freePort();
  const pgStart = () =>
    asOwner(root, join(bin, 'pg_ctl'), [
      '-D',
      data,
      '-l',
      join(dir, 'server.log'),
      '-w',
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      'start',
    ]);
  try {
    await asOwner(root, join(bin, 'initdb'), [
      '-D',
      data,
      '-U',
      'sluice',
      '--auth=trust',
      '-E',
      'UTF8',
      '--no-sync',
    ]);
    await pgStart();
  } catch (error) {
    removeDir(dir);
    throw new Error(`the throwaway PostgreSQL cluster did not start: ${(error as Error).message}`);
  }
  let stopped = false;
  return {
    url: `postgres://sluice@127.0.0.1:${port}/postgres`,
    port,
    dir,
    async halt() {
      await asOwner(root, join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
    },
    async resume() {
      await pgStart();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await asOwner(root, join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {});
      removeDir(dir);
    },
  };
}

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([run('id', ['-u', 'postgres']), run('id', ['-g', 'postgres'])]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}
