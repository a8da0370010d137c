import { grantListSchema, grantSchema, revokedGrantSchema } from '@sluice/api';
import { ACK_ALL_ACTIVE, type FakeEdge } from '@sluice/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrollAndConnect, startTestServer, type TestServer } from '../test-harness.ts';

const rule = (name: string, listen: string, protocol = 'tcp') => ({
  name,
  listen,
  targets: ['127.0.0.1:9'],
  protocol,
});

let test: TestServer;
const edges: FakeEdge[] = [];
let carol: string;
let dave: string;

const grant = async (body: unknown) => {
  const answer = await test.request('POST', '/v1/grants', body);
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return grantSchema.parse(answer.body);
};

beforeAll(async () => {
  test = await startTestServer();
  edges.push((await enrollAndConnect(test, 'edge-01', ACK_ALL_ACTIVE)).edge);
  edges.push((await enrollAndConnect(test, 'edge-02', ACK_ALL_ACTIVE)).edge);
  const { store } = test.server;
  carol = (await store.users.createToken((await store.users.create('carol', 'user')).id)).token;
  dave = (await store.users.createToken((await store.users.create('dave', 'user')).id)).token;
  await grant({ user: 'carol', edge: 'edge-01', ports: { from: 21000, to: 21099 }, protocols: ['tcp'] });
  await grant({ user: 'carol', edge: 'edge-01', ports: { from: 21100, to: 21100 }, protocols: ['udp'] });
});
afterAll(async () => {
  for (const edge of edges) await edge.close();
  await test.stop();
});

describe('pushing inside and outside grants', () => {
  it('a user pushes inside a grant: 201', async () => {
    const pushed = await test.request(
      'POST',
      '/v1/rules',
      { edge: 'edge-01', rule: rule('in', '127.0.0.1:21001') },
      carol,
    );
    expect(pushed).toMatchObject({ status: 201, body: { owner: 'carol', state: 'active' } });
    const range = await test.request(
      'POST',
      '/v1/rules',
      { edge: 'edge-01', rule: { ...rule('range', '127.0.0.1:21010-21019'), targets: ['127.0.0.1:9'] } },
      carol,
    );
    expect(range.status).toBe(201);
  });

  it.each([
    ['edge', 'edge-02', rule('e', '127.0.0.1:21002'), 'edge: carol holds no grant on edge edge-02'],
    [
      'port',
      'edge-01',
      rule('p', '127.0.0.1:22000'),
      'port: no grant of carol on edge edge-01 holds listen port 22000',
    ],
    [
      'port range',
      'edge-01',
      rule('r', '127.0.0.1:21095-21105'),
      'port: no grant of carol on edge edge-01 holds listen ports 21095-21105',
    ],
    [
      'protocol',
      'edge-01',
      rule('u', '127.0.0.1:21003', 'udp'),
      'protocol: the grants of carol holding port 21003 on edge edge-01 do not allow udp',
    ],
  ])(
    'outside every grant by %s: 403 not_granted naming it, nothing stored',
    async (_what, edge, table, message) => {
      const before = await test.server.store.rules.list({ owner: 'carol' });
      const answer = await test.request('POST', '/v1/rules', { edge, rule: table }, carol);
      expect(answer).toEqual({ status: 403, body: { error: { code: 'not_granted', message } } });
      expect(await test.server.store.rules.list({ owner: 'carol' })).toEqual(before);
    },
  );

  it('an update that leaves the grants is refused and the rule keeps its revision', async () => {
    const pushed = await test.request(
      'POST',
      '/v1/rules',
      { edge: 'edge-01', rule: rule('moving', '127.0.0.1:21004') },
      carol,
    );
    const moved = await test.request(
      'PUT',
      `/v1/rules/${pushed.body.id}`,
      { rule: rule('moving', '127.0.0.1:23000') },
      carol,
    );
    expect(moved).toMatchObject({ status: 403, body: { error: { code: 'not_granted' } } });
    expect(moved.body.error.message).toMatch(/^port: /);
    expect((await test.server.store.rules.get(pushed.body.id))?.revision).toBe(1);
    const denials = await test.server.metrics.registry.getSingleMetricAsString('sluice_server_denials_total');
    expect(denials).toMatch(/reason="not_granted"} [1-9]/);
  });

  it('the udp grant of one port allows udp there only', async () => {
    const udp = await test.request(
      'POST',
      '/v1/rules',
      { edge: 'edge-01', rule: rule('dns', '127.0.0.1:21100', 'udp') },
      carol,
    );
    expect(udp.status).toBe(201);
    const tcp = await test.request(
      'POST',
      '/v1/rules',
      { edge: 'edge-01', rule: rule('dns-tcp', '127.0.0.2:21100') },
      carol,
    );
    expect(tcp.body.error.message).toMatch(/^protocol: /);
  });

  it('admins are not bound by grants, also when pushing for a user', async () => {
    const own = await test.request('POST', '/v1/rules', {
      edge: 'edge-02',
      rule: rule('adm', '127.0.0.1:30000'),
    });
    expect(own.status).toBe(201);
    const forCarol = await test.request('POST', '/v1/rules', {
      edge: 'edge-02',
      owner: 'carol',
      rule: rule('for-carol', '127.0.0.1:30001', 'udp'),
    });
    expect(forCarol).toMatchObject({ status: 201, body: { owner: 'carol' } });
  });

  it('denials and grant changes are in the audit trail', async () => {
    const audit = (await test.request('GET', '/v1/audit?limit=200')).body.entries as Array<{
      action: string;
      outcome: string;
      user: string;
    }>;
    expect(audit).toContainEqual(
      expect.objectContaining({ action: 'rule.push', outcome: 'not_granted', user: 'carol' }),
    );
    expect(audit).toContainEqual(
      expect.objectContaining({ action: 'grant.add', outcome: 'ok', user: 'admin' }),
    );
  });
});

describe('what a user sees', () => {
  it('only the edges it holds a grant on', async () => {
    const list = await test.request('GET', '/v1/edges', undefined, carol);
    expect(list.body.edges.map((edge: { name: string }) => edge.name)).toEqual(['edge-01']);
    expect((await test.request('GET', '/v1/edges/edge-02', undefined, carol)).status).toBe(404);
    expect((await test.request('GET', '/v1/edges/edge-01', undefined, carol)).status).toBe(200);
    expect((await test.request('GET', '/v1/edges', undefined, dave)).body.edges).toEqual([]);
  });

  it("not another user's rules, stats or stats stream", async () => {
    const [carols] = await test.server.store.rules.list({ owner: 'carol' });
    expect((await test.request('GET', '/v1/rules', undefined, dave)).body.rules).toEqual([]);
    for (const [method, url] of [
      ['GET', `/v1/rules/${carols!.id}`],
      ['GET', `/v1/rules/${carols!.id}/stats`],
      ['GET', `/v1/stats/stream?rule=${carols!.id}`],
      ['DELETE', `/v1/rules/${carols!.id}`],
    ] as const) {
      expect((await test.request(method, url, undefined, dave)).status, url).toBe(404);
    }
  });

  it("the stats stream carries the user's own rules only", async () => {
    const { store } = test.server;
    const edgeId = (await store.edges.find('edge-02'))!.id;
    const rules = await store.rules.list({ edgeId });
    const admins = rules.find((r) => r.owner === 'admin')!;
    const carols = rules.find((r) => r.owner === 'carol')!;
    const response = await fetch(`${test.apiUrl}/v1/stats/stream`, {
      headers: { authorization: `Bearer ${carol}` },
      signal: AbortSignal.timeout(10_000),
    });
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let seen = '';
    const counters = {
      bytesIn: 1,
      bytesOut: 2,
      connectionsTotal: 1,
      activeConnections: 0,
      rejected: 0,
      connectErrors: 0,
    };
    let seq = 1;
    for (const rule of [admins, carols]) {
      edges[1]!.send({
        type: 'stats',
        bootId: 'stream-boot',
        seq: seq++,
        rules: [{ ruleId: rule.id, ...counters }],
      });
    }
    // The store answers the visibility look-ups in order, so once carol's event is here the
    // admin's rule has been decided on too.
    while (!seen.includes(carols.id)) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += value;
    }
    await reader.cancel();
    expect(seen).toContain(`"rule":"${carols.id}"`);
    expect(seen).not.toContain(admins.id);
  });

  it('grants: a user lists its own only; an admin filters by user and edge', async () => {
    const own = grantListSchema.parse((await test.request('GET', '/v1/grants', undefined, carol)).body);
    expect(own.grants.map((g) => g.user.name)).toEqual(['carol', 'carol']);
    expect((await test.request('GET', '/v1/grants', undefined, dave)).body.grants).toEqual([]);
    expect((await test.request('GET', '/v1/grants?user=carol', undefined, dave)).status).toBe(403);
    expect((await test.request('GET', '/v1/grants?edge=edge-02')).body.grants).toEqual([]);
    expect((await test.request('GET', '/v1/grants?user=carol&edge=edge-01')).body.grants).toHaveLength(2);
    expect((await test.request('GET', '/v1/grants?user=nobody')).status).toBe(404);
  });
});

describe('revoking a grant', () => {
  it('drains and removes the rules only it allowed, keeps those another grant covers', async () => {
    const narrow = await grant({
      user: 'dave',
      edge: 'edge-02',
      ports: { from: 24000, to: 24010 },
      protocols: ['tcp'],
    });
    await grant({ user: 'dave', edge: '*', ports: { from: 24005, to: 24005 }, protocols: ['tcp', 'udp'] });
    const only = await test.request(
      'POST',
      '/v1/rules',
      { edge: 'edge-02', rule: rule('only', '127.0.0.1:24001') },
      dave,
    );
    const both = await test.request(
      'POST',
      '/v1/rules',
      { edge: 'edge-02', rule: rule('both', '127.0.0.1:24005') },
      dave,
    );
    expect([only.status, both.status]).toEqual([201, 201]);
    const revoked = await test.request('DELETE', `/v1/grants/${narrow.id}`);
    expect(revoked.status).toBe(200);
    const body = revokedGrantSchema.parse(revoked.body);
    expect(body.grant.id).toBe(narrow.id);
    expect(body.removed.map((r) => [r.id, r.state])).toEqual([[only.body.id, 'removed']]);
    // The edge was told to drop it; the other rule is untouched.
    expect(edges[1]!.received).toContainEqual(
      expect.objectContaining({ type: 'push', remove: [only.body.id] }),
    );
    expect((await test.request('GET', `/v1/rules/${both.body.id}`, undefined, dave)).body.state).toBe(
      'active',
    );
    expect((await test.request('DELETE', `/v1/grants/${narrow.id}`)).status).toBe(404);
  });

  it('only an admin grants and revokes', async () => {
    const body = { user: 'dave', edge: '*', ports: { from: 1, to: 65535 }, protocols: ['tcp'] };
    expect((await test.request('POST', '/v1/grants', body, dave)).status).toBe(403);
    const [any] = (await test.server.store.grants.list()).slice(-1);
    expect((await test.request('DELETE', `/v1/grants/${any!.id}`, undefined, carol)).status).toBe(403);
  });
});

describe('bad grant bodies: 400 naming the field, nothing stored', () => {
  const valid = { user: 'carol', edge: 'edge-01', ports: { from: 1, to: 2 }, protocols: ['tcp'] };
  it.each([
    ['ports.from', { ...valid, ports: { from: 0, to: 2 } }],
    ['ports.to', { ...valid, ports: { from: 10, to: 2 } }],
    ['ports.to', { ...valid, ports: { from: 1, to: 70000 } }],
    ['protocols', { ...valid, protocols: [] }],
    ['protocols[0]', { ...valid, protocols: ['sctp'] }],
    ['protocols', { ...valid, protocols: ['tcp', 'tcp'] }],
    ['user', { ...valid, user: '' }],
    ['edge', { ...valid, edge: undefined }],
    ['colour', { ...valid, colour: 'red' }],
  ])('%s', async (field, body) => {
    const before = await test.server.store.grants.list();
    const answer = await test.request('POST', '/v1/grants', body);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('bad_request');
    expect(answer.body.error.message).toContain(field);
    expect(await test.server.store.grants.list()).toEqual(before);
  });

  it('an unknown user or edge is 404 and nothing is stored', async () => {
    const before = await test.server.store.grants.list();
    expect((await test.request('POST', '/v1/grants', { ...valid, user: 'nobody' })).status).toBe(404);
    expect((await test.request('POST', '/v1/grants', { ...valid, edge: 'edge-99' })).status).toBe(404);
    expect(await test.server.store.grants.list()).toEqual(before);
  });
});
