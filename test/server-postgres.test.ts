// Two sluice-servers sharing one PostgreSQL store, as an operator runs them: each with its own
// data dir (certificate, key, lock) and `store = "postgres://..."` in its config. The first start
// makes the admin, the second finds it; an edge enrolled through one is listed by the other; a
// user made from the command line with --store works on both. backup refuses PostgreSQL, naming
// the option and the tools to use instead.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type PgCluster, removeDir, startPgCluster, tempDir } from '@sluice/test-kit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from './helpers/api-client.ts';
import { runCleanup } from './helpers/cleanup.ts';
import { adminTokenOf, runServerCommand, startServer } from './helpers/server-process.ts';

let cluster: PgCluster;
let dir: string;

beforeAll(async () => {
  cluster = await startPgCluster();
  dir = tempDir('sluice-pg-servers-');
}, 60_000);
afterAll(async () => {
  await cluster.stop();
  removeDir(dir);
});
afterEach(runCleanup);

describe('sluice-server on PostgreSQL', () => {
  it('shares one store between two servers, and the user command reaches it with --store', async () => {
    // The cluster is this file's alone: its own database will do.
    const url = cluster.url;
    const configToml = `store = "${url}"\n`;
    const first = await startServer({ dataDir: join(dir, 'a'), configToml });
    const token = await adminTokenOf(first);
    const second = await startServer({ dataDir: join(dir, 'b'), configToml });
    expect(second.adminToken).toBeNull();
    // The data dirs keep their certificate and key, but no database.
    expect(existsSync(join(dir, 'a', 'server.key'))).toBe(true);
    expect(existsSync(join(dir, 'a', 'sluice.db'))).toBe(false);

    const viaFirst = new ApiClient(first.apiUrl, token);
    const viaSecond = new ApiClient(second.apiUrl, token);
    await viaFirst.enroll('edge-a');
    expect((await viaSecond.edges()).map((edge) => edge.name)).toEqual(['edge-a']);

    const added = await runServerCommand([
      'user',
      'add',
      'alice',
      '--data-dir',
      join(dir, 'a'),
      '--store',
      url,
    ]);
    expect(added.code, added.stderr).toBe(0);
    const aliceToken = /^token: (\S+)$/m.exec(added.stdout)?.[1];
    expect(await new ApiClient(second.apiUrl, aliceToken!).rules()).toEqual([]);

    const backup = await runServerCommand([
      'backup',
      '--data-dir',
      join(dir, 'a'),
      '--out',
      join(dir, 'backup.db'),
      '--store',
      url,
    ]);
    expect(backup.code).toBe(2);
    expect(backup.stderr).toMatch(
      /^usage: --store: backup handles the SQLite store only; .*pg_dump and pg_restore/m,
    );
  });
});
