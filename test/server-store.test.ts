// The server's store as an operator handles it: `sluice-server backup` while the server runs,
// `restore` into a fresh data dir (refusing a dir a server holds, and a database already there
// unless --force), and a server started there with the old key and certificate: the rules and
// tokens of the backup are there, and the edge reconnects to it and is reconciled to the
// backup's rules (a rule pushed after the backup is removed from it).

import { copyFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { freePorts, serveArgs } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient, apiError, tcpRule } from './helpers/api-client.ts';
import { runCleanup } from './helpers/cleanup.ts';
import { addEdge, startControlPlane } from './helpers/control-plane.ts';
import { edgeRuleStates } from './helpers/managed-edge-process.ts';
import { runServerCommand, startServer } from './helpers/server-process.ts';
import { startEchoTarget } from './helpers/target-server.ts';
import { connectError, echoRoundTrip } from './helpers/tcp-client.ts';

afterEach(runCleanup);

describe('sluice-server backup and restore', () => {
  it('backs up while serving; a restored data dir serves the backup to the edges', async () => {
    const plane = await startControlPlane();
    const { api } = plane;
    const edge = await addEdge(plane, 'edge-a');
    const target = await startEchoTarget();
    const [webPort, dbPort, latePort] = await freePorts(3);
    const web = await api.pushActive('edge-a', tcpRule('web', webPort!, target.port));
    const db = await api.pushActive('edge-a', tcpRule('db', dbPort!, target.port));
    await echoRoundTrip(webPort!, 'before the backup');

    // A user made beside the running server; its token works at once.
    const added = await runServerCommand(['user', 'add', 'alice', '--data-dir', plane.dataDir]);
    expect(added.code, added.stderr).toBe(0);
    const aliceToken = /^token: (\S+)$/m.exec(added.stdout)?.[1];
    expect(aliceToken).toBeDefined();
    const alice = new ApiClient(plane.server.apiUrl, aliceToken!);
    expect(await alice.rules()).toEqual([]);
    const forbidden = await alice.post('/v1/enrollments', { edge: 'edge-z' });
    expect(forbidden.status, forbidden.text).toBe(403);
    expect(apiError(forbidden).code).toBe('forbidden');

    // Backup while serving: 0600, the database only.
    const backupFile = join(plane.dir, 'sluice.backup');
    const backup = await runServerCommand(['backup', '--data-dir', plane.dataDir, '--out', backupFile]);
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stdout).toMatch(/^backup written: .*sluice\.backup \(\d+ pages, schema version \d+\)/);
    expect(statSync(backupFile).mode & 0o777).toBe(0o600);
    // The server noticed nothing; a rule pushed now is not in the backup.
    const late = await api.pushActive('edge-a', tcpRule('late', latePort!, target.port));
    await echoRoundTrip(latePort!, 'after the backup');

    // A data dir a server runs on is refused, for restore and for a second server.
    const busy = await runServerCommand(['restore', '--data-dir', plane.dataDir, '--in', backupFile]);
    expect(busy.code, busy.stderr).toBe(5);
    expect(busy.stderr).toMatch(/^store_in_use: /);
    const second = await runServerCommand(serveArgs(plane.dataDir));
    expect(second.code, second.stderr).toBe(5);
    expect(second.stderr).toMatch(/^store_in_use: /);

    // Restore into a fresh dir; a second restore there needs --force.
    const restoredDir = join(plane.dir, 'restored');
    const restore = await runServerCommand(['restore', '--data-dir', restoredDir, '--in', backupFile]);
    expect(restore.code, restore.stderr).toBe(0);
    expect(restore.stdout).toContain(`restored ${backupFile} into `);
    expect(statSync(restoredDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(restoredDir, 'sluice.db')).mode & 0o777).toBe(0o600);
    const again = await runServerCommand(['restore', '--data-dir', restoredDir, '--in', backupFile]);
    expect(again.code, again.stderr).toBe(7);
    expect(again.stderr).toMatch(/^data_dir_not_empty: .*--force/);
    const forced = await runServerCommand([
      'restore',
      '--data-dir',
      restoredDir,
      '--in',
      backupFile,
      '--force',
    ]);
    expect(forced.code, forced.stderr).toBe(0);

    // The old server dies; the restored one takes its place with the key and certificate the
    // edges pinned (kept beside the backup, as docs/server-api.md says).
    for (const file of ['server.key', 'server.crt'])
      copyFileSync(join(plane.dataDir, file), join(restoredDir, file));
    const ports = plane.server.ports;
    // Marked before the kill: the edge may reconnect and apply the restored server's full push
    // before the checks below are done (its backoff is about a second).
    const mark = edge.process.mark();
    await plane.server.kill();
    const restored = await startServer({ dataDir: restoredDir, ports });
    // The backup has users: no new admin token, and the old tokens work.
    expect(restored.adminToken).toBeNull();
    const rules = await api.rules();
    expect(rules.map((r) => [r.id, r.name, r.state, r.revision, r.owner])).toEqual([
      [db.id, 'db', 'active', 1, 'admin'],
      [web.id, 'web', 'active', 1, 'admin'],
    ]);
    expect(rules.find((r) => r.id === web.id)?.rule).toEqual(web.rule);
    expect(await alice.rules()).toEqual([]);
    expect((await api.get(`/v1/rules/${late.id}`)).status).toBe(404);

    // The edge comes back to the restored server and runs what the backup says: `late` goes.
    await api.waitConnected('edge-a', true, 35_000);
    await edge.process.waitForMsg('rules applied', { full: true, active: 2, removed: 1 }, 10_000, mark);
    expect(await edgeRuleStates(edge)).toEqual({ db: 'active', web: 'active' });
    expect(await connectError(latePort!)).toBe('ECONNREFUSED');
    await echoRoundTrip(webPort!, 'served by the restored server');
    expect((await api.edge('edge-a')).rules).toBe(2);
  });
});
