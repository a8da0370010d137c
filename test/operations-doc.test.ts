// docs/operations.md run as an operator runs it: every command of its ```sh blocks, in order, from
// the repo root, exactly as written but for one substitution: the doc's database server
// `127.0.0.1:5432` is a throwaway PostgreSQL cluster's port. The test first makes what the doc
// assumes: `./sluice-a` holding a stopped single server's SQLite store (an admin, a user, an
// edge), and the role `sluice` owning the empty databases `sluice` and `sluice_restored`. A command
// the test does not know fails the test, so the doc cannot grow a step that nothing runs.

import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Enrollment } from '@sluice/api';
import { type PgCluster, startPgCluster } from '@sluice/test-kit';
import { afterEach, expect, it } from 'vitest';
import { ApiClient } from './helpers/api-client.ts';
import { deferCleanup, runCleanup } from './helpers/cleanup.ts';
import {
  checkEveryCommandIsKnown,
  claimRepoPath,
  type DocSession,
  type DocStep,
  everyShCommand,
  expectPortsFree,
  interruptTerminals,
  runCommand,
  runDocCommands,
  startTerminal,
} from './helpers/doc-commands.ts';
import { REPO_ROOT } from './helpers/edge-process.ts';
import { createDatabase, queryValue } from './helpers/replica-plane.ts';
import { adminTokenOf, startServer } from './helpers/server-process.ts';

const DOC = 'docs/operations.md';
const DOC_DATABASE_SERVER = '127.0.0.1:5432';
// The replicas' control, API and metrics ports the doc gives (7543/7544, 7180/7181, 7190/7191).
const WALKTHROUGH_PORTS = [7543, 7544, 7180, 7181, 7190, 7191] as const;
// The doc's tables (in the database) the backup must carry over, row for row.
const RESTORED_TABLES = ['users', 'edges'] as const;

afterEach(runCleanup);

interface Session extends DocSession {
  /** The single server's admin token, made before the doc's first command. */
  readonly token: string;
  /** A user the single server had. */
  readonly user: string;
  /** Each replica's control address, in the order they started. */
  readonly controls: string[];
  /** The database `pg_dump` read. */
  dumpedFrom?: string;
}

// A postgres:// URL to the doc's role on loopback; the group is the URL.
const STORE = String.raw`(postgres://sluice@127\.0\.0\.1:\d+/\w+)`;
const step = (pattern: string, run: DocStep<Session>['run']): DocStep<Session> => ({
  pattern: new RegExp(`^${pattern}$`),
  run,
});

const MIGRATE_STORE = step(
  String.raw`\./run server migrate-store --from (\S+) --to ${STORE}`,
  async (command, [, , url], session) => {
    const { stdout } = await runCommand(command, session);
    const { host, pathname } = new URL(url ?? '');
    expect(stdout).toMatch(
      new RegExp(`^moved [1-9]\\d* rows in 13 tables to PostgreSQL ${host}${pathname}, every row checked;`),
    );
  },
);

/** A replica, left running in its terminal; checked through its API once it is ready. */
const SERVE_REPLICA = step(
  String.raw`\./run server serve --data-dir (\S+) --store ${STORE} --control (\S+) --api (\S+) --metrics (\S+)`,
  async (command, [, , , control, api, metrics], session) => {
    const replica = startTerminal(command, session);
    const [ready] = await replica.waitFor(
      /^.*"msg":"sluice-server ready".*$/m,
      'stderr',
      'the "sluice-server ready" line',
    );
    expect(JSON.parse(ready)).toMatchObject({ control, api, metrics });
    session.controls.push(control ?? '');
    // The single server's admin token and users are in the database now.
    const client = new ApiClient(`http://${api}`, session.token);
    const { users } = await client.ok<{ users: { name: string }[] }>('/v1/users');
    expect(users.map(({ name }) => name)).toContain(session.user);
    // An enrollment lists every live replica's control address, the one that made it first.
    const made = await client.post<Enrollment>('/v1/enrollments', {
      edge: `edge-0${session.controls.length + 1}`,
    });
    expect(made.status, made.text).toBe(201);
    const addresses = /^sluice:\/\/([^/]+)\/enroll\?/.exec(made.body.uri)?.[1]?.split(',');
    expect(addresses?.[0], made.body.uri).toBe(control);
    expect(addresses?.toSorted(), made.body.uri).toEqual(session.controls.toSorted());
  },
);

const PREPARE_REPLICA = step(
  String.raw`\./run server prepare-replica (\S+) --from (\S+)`,
  async (command, [, to, from], session) => {
    await runCommand(command, session);
    const key = join(REPO_ROOT, to ?? '', 'server.key');
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(readFileSync(key).equals(readFileSync(join(REPO_ROOT, from ?? '', 'server.key')))).toBe(true);
  },
);

const PG_DUMP = step(
  String.raw`pg_dump --format=custom --file=(\S+) ${STORE}`,
  async (command, [, file, url], session) => {
    // Debian's pg_dump is a wrapper that picks the installed version; it must have nothing to say.
    const { stderr } = await runCommand(command, session);
    expect(stderr).toBe('');
    expect(statSync(join(REPO_ROOT, file ?? '')).size).toBeGreaterThan(0);
    session.dumpedFrom = url;
  },
);

const PG_RESTORE = step(
  String.raw`pg_restore --no-owner --dbname=${STORE} (\S+)`,
  async (command, [, url], session) => {
    // "Restore into an empty database with the replicas stopped": Ctrl-C in their terminals first.
    await interruptTerminals(session);
    const { stderr } = await runCommand(command, session);
    expect(stderr).toBe('');
    for (const table of RESTORED_TABLES) {
      const count = `SELECT count(*) FROM ${table}`;
      const restored = await queryValue(url ?? '', count);
      expect(restored, table).toBe(await queryValue(session.dumpedFrom ?? '', count));
      expect(Number(restored), table).toBeGreaterThan(0);
    }
  },
);

/** The doc's commands, one for one and in order. */
const STEPS = [
  // ## Replicas on PostgreSQL
  MIGRATE_STORE,
  SERVE_REPLICA,
  PREPARE_REPLICA,
  SERVE_REPLICA,
  // ## Backup and restore on PostgreSQL
  PG_DUMP,
  PG_RESTORE,
] as const;

/** `./sluice-a`: the data dir of a single server that ran, made a user and an edge, and stopped. */
async function stoppedSingleServer(dataDir: string): Promise<{ token: string; user: string }> {
  const server = await startServer({ dataDir });
  const token = await adminTokenOf(server);
  const api = new ApiClient(server.apiUrl, token);
  const user = 'dana';
  const made = await api.post('/v1/users', { name: user, role: 'user' });
  expect(made.status, made.text).toBe(201);
  await api.enroll('edge-01');
  server.signal('SIGTERM');
  expect(await server.waitForExit(10_000)).toMatchObject({ code: 0 });
  return { token, user };
}

async function startCluster(): Promise<PgCluster> {
  const cluster = await startPgCluster();
  deferCleanup(() => cluster.stop());
  // "`sluice` a role that owns the empty databases `sluice` and `sluice_restored`".
  await createDatabase(cluster, 'sluice');
  await createDatabase(cluster, 'sluice_restored');
  return cluster;
}

it('runs every command of docs/operations.md, as written, on a throwaway PostgreSQL', async () => {
  const commands = everyShCommand(DOC);
  checkEveryCommandIsKnown(commands, STEPS, 'test/operations-doc.test.ts');
  await expectPortsFree(WALKTHROUGH_PORTS, DOC);

  const sluiceA = claimRepoPath('sluice-a');
  claimRepoPath('sluice-b');
  claimRepoPath('sluice.dump');
  const cluster = await startCluster();
  const single = await stoppedSingleServer(sluiceA);

  const session: Session = {
    env: { ...process.env, SLUICE_LOG_FORMAT: 'json' },
    terminals: [],
    controls: [],
    ...single,
  };
  const ran = await runDocCommands(commands, STEPS, session, {
    rewrite: (text) => text.replaceAll(DOC_DATABASE_SERVER, `127.0.0.1:${cluster.port}`),
  });
  expect(ran).toBe(STEPS.length);
  expect(session.controls).toEqual(['127.0.0.1:7543', '127.0.0.1:7544']);
  // The restore step stopped the replicas already; this is Ctrl-C for any left running.
  await interruptTerminals(session);
}, 120_000);
