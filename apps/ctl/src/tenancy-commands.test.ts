// `sluicectl grant ...`, `sluicectl owner-limits ...` and `sluicectl quota ...` through runCli against a real
// sluice-server (the server's test harness: real SQLite, its API over HTTP on loopback, a fake
// edge over real TLS), with --format json, and the exit codes of the one table.

import { API_ERRORS } from '@sluice/api';
import { enrollAndConnect, startTestServer, type TestServer } from '@sluice/server/test-harness';
import { ACK_ALL_ACTIVE } from '@sluice/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCtl } from './run-ctl.fixture.ts';

let test: TestServer;
let close: () => Promise<void>;
let carol: string;
let edgeId: string;

function ctl(args: readonly string[], token = test.adminToken) {
  return runCtl(test.apiUrl, token, args);
}

beforeAll(async () => {
  test = await startTestServer();
  const connected = await enrollAndConnect(test, 'edge-01', ACK_ALL_ACTIVE);
  close = () => connected.edge.close();
  edgeId = connected.edgeId;
  const { store } = test.server;
  carol = (await store.users.createToken((await store.users.create('carol', 'user')).id)).token;
});
afterAll(async () => {
  await close();
  await test.stop();
});

describe('sluicectl grant', () => {
  it('add, list and revoke with --format json; the revoke lists the rules it drained', async () => {
    const added = await ctl([
      '--format',
      'json',
      'grant',
      'add',
      'carol',
      'edge-01',
      '25000-25009',
      '--protocols',
      'tcp,udp',
    ]);
    expect(added.code, added.stderr).toBe(0);
    const grant = JSON.parse(added.stdout);
    expect(grant).toMatchObject({
      user: { name: 'carol' },
      edge: { name: 'edge-01' },
      ports: { from: 25000, to: 25009 },
    });
    expect(grant.protocols).toEqual(['tcp', 'udp']);

    const listed = await ctl(['--format', 'json', 'grant', 'list', '--user', 'carol'], carol);
    expect(JSON.parse(listed.stdout).grants.map((g: { id: string }) => g.id)).toEqual([grant.id]);
    const table = await ctl(['grant', 'list']);
    expect(table.stdout).toMatch(
      new RegExp(`^${grant.id}\\s+carol\\s+edge-01\\s+25000-25009\\s+tcp,udp$`, 'm'),
    );

    const pushed = await ctl(
      ['--format', 'json', 'push-rule', 'edge-01', '127.0.0.1:25001', '127.0.0.1:9'],
      carol,
    );
    expect(pushed.code, pushed.stderr).toBe(0);
    const revoked = await ctl(['--format', 'json', 'grant', 'revoke', grant.id]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(JSON.parse(revoked.stdout).removed.map((r: { id: string }) => r.id)).toEqual([
      JSON.parse(pushed.stdout).id,
    ]);
  });

  it('a push outside every grant ends with not_granted and its exit code', async () => {
    const run = await ctl(['push-rule', 'edge-01', '127.0.0.1:26000', '127.0.0.1:9'], carol);
    expect(run.code).toBe(API_ERRORS.table.not_granted.exitCode);
    expect(run.stderr).toBe('not_granted: edge: carol holds no grant on edge edge-01\n');
  });

  it('bad usage names the argument and sends nothing', async () => {
    const before = await test.server.store.grants.list();
    const ports = await ctl(['grant', 'add', 'carol', 'edge-01', '80-']);
    expect(ports.stderr).toMatch(/^bad_usage: PORTS "80-"/);
    const protocols = await ctl(['grant', 'add', 'carol', 'edge-01', '80', '--protocols', 'sctp']);
    expect(protocols.stderr).toMatch(/^bad_usage: --protocols "sctp"/);
    expect(ports.code).toBe(protocols.code);
    expect(ports.code).not.toBe(0);
    expect(await test.server.store.grants.list()).toEqual(before);
  });
});

describe('sluicectl owner-limits', () => {
  it('set, get and delete with --format json', async () => {
    const set = await ctl([
      '--format',
      'json',
      'owner-limits',
      'set',
      'edge-01',
      'team',
      '--limit',
      'bandwidth=10Mbit',
      '--limit',
      'max_connections=5',
    ]);
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({
      owner: 'team',
      limits: { bandwidth: '10Mbit', max_connections: 5 },
    });
    const got = await ctl(['--format', 'json', 'owner-limits', 'get', 'edge-01', 'team']);
    expect(JSON.parse(got.stdout).limits).toEqual({ bandwidth: '10Mbit', max_connections: 5 });
    const deleted = await ctl(['--format', 'json', 'owner-limits', 'delete', 'edge-01', 'team']);
    expect(deleted.code, deleted.stderr).toBe(0);
    const gone = await ctl(['owner-limits', 'get', 'edge-01', 'team']);
    expect(gone.code).toBe(API_ERRORS.table.not_found.exitCode);
  });

  it('a cap the server refuses is bad_request naming the field, with its exit code', async () => {
    const run = await ctl(['owner-limits', 'set', 'edge-01', 'team', '--limit', 'bandwidth=fast']);
    expect(run.code).toBe(API_ERRORS.table.bad_request.exitCode);
    expect(run.stderr).toMatch(/^bad_request: limits\.bandwidth: /);
    expect(
      await test.server.store.ownerLimits.ofEdge((await test.server.store.edges.find('edge-01'))!.id),
    ).toEqual({});
  });
});

describe('sluicectl quota', () => {
  it('set, status, clear and remove; usage the edge reports counts, and exhaustion shows', async () => {
    const set = await ctl([
      '--format',
      'json',
      'quota',
      'set',
      'carol',
      'edge-01',
      '--monthly',
      '64MiB',
      '--anchor',
      '2026-01-31T00:00:00Z',
    ]);
    expect(set.code, set.stderr).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({
      user: { name: 'carol' },
      edge: { name: 'edge-01' },
      monthlyBytes: 64 * 2 ** 20,
      usedBytes: 0,
      remainingBytes: 64 * 2 ** 20,
      periodAnchor: '2026-01-31T00:00:00.000Z',
      exhaustedAt: null,
    });
    // The edge reports carol's cumulative bytes: 40 MiB, then 70 MiB (30 more) in the same boot.
    await test.server.store.stats.record(edgeId, 'boot-a', [], [{ owner: 'carol', bytes: 40 * 2 ** 20 }]);
    await test.server.store.stats.record(edgeId, 'boot-a', [], [{ owner: 'carol', bytes: 70 * 2 ** 20 }]);
    // carol reads her own, by `me`.
    const mine = await ctl(['--format', 'json', 'quota', 'status'], carol);
    expect(mine.code, mine.stderr).toBe(0);
    const [status] = JSON.parse(mine.stdout).quotas;
    expect(status).toMatchObject({ usedBytes: 70 * 2 ** 20, remainingBytes: 0 });
    expect(status.exhaustedAt).not.toBeNull();
    const table = await ctl(['quota', 'status', 'carol', 'edge-01']);
    expect(table.stdout).toMatch(/carol\s+edge-01\s+64(\.0)? MiB\s+70(\.0)? MiB \(109%\)/);

    const cleared = await ctl(['--format', 'json', 'quota', 'clear', 'carol', 'edge-01']);
    expect(cleared.code, cleared.stderr).toBe(0);
    expect(JSON.parse(cleared.stdout)).toMatchObject({ usedBytes: 0, exhaustedAt: null });
    // A report of a new boot counts from zero: all of it is new.
    await test.server.store.stats.record(edgeId, 'boot-b', [], [{ owner: 'carol', bytes: 1000 }]);
    const after = await ctl(['--format', 'json', 'quota', 'status', 'carol', 'edge-01']);
    expect(JSON.parse(after.stdout).usedBytes).toBe(1000);

    const removed = await ctl(['quota', 'remove', 'carol', 'edge-01']);
    expect(removed.code, removed.stderr).toBe(0);
    const gone = await ctl(['quota', 'status', 'carol', 'edge-01']);
    expect(gone.code).toBe(API_ERRORS.table.not_found.exitCode);
  });

  it('a user may not read or set quotas of others, nor set their own', async () => {
    const other = await ctl(['quota', 'status', 'admin'], carol);
    expect(other.code).toBe(API_ERRORS.table.forbidden.exitCode);
    const own = await ctl(['quota', 'set', 'carol', 'edge-01', '--monthly', '1TiB'], carol);
    expect(own.code).toBe(API_ERRORS.table.forbidden.exitCode);
  });

  it('a size that is not one is refused before the server is asked; a bad body stores nothing', async () => {
    const run = await ctl(['quota', 'set', 'carol', 'edge-01', '--monthly', '12 parsecs']);
    expect(run.stderr).toMatch(/^bad_usage: --monthly: "12 parsecs" is not a size/);
    expect(run.code).not.toBe(0);
    const bad = await test.request('PUT', '/v1/users/carol/quotas/edge-01', { monthlyBytes: -5 });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('monthlyBytes');
    const anchor = await test.request('PUT', '/v1/users/carol/quotas/edge-01', {
      monthlyBytes: 5,
      periodAnchor: 'tuesday',
    });
    expect(anchor.status).toBe(400);
    expect(JSON.stringify(anchor.body)).toContain('periodAnchor');
    expect(await test.server.store.quotas.list({})).toEqual([]);
  });
});
