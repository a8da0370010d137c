import { readFileSync } from 'node:fs';
import {
  API_ERRORS,
  API_ROUTES,
  type ApiErrorCode,
  apiErrorBodySchema,
  auditListSchema,
  edgeListSchema,
  edgeSchema,
  enrollmentSchema,
  openApiDocument,
  ruleListSchema,
  ruleSchema,
  ruleStatsSchema,
} from '@sluice/api';
import { PROTOCOL_VERSION } from '@sluice/protocol';
import { ACK_ALL_ACTIVE, type FakeEdge, ZERO_COUNTERS } from '@sluice/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { enrollAndConnect, startTestServer, type TestServer } from '../test-harness.ts';

const RULE = { name: 'web', listen: '127.0.0.1:18080', targets: ['127.0.0.1:18081'] };

let test: TestServer;
let edge: FakeEdge;
let edgeId: string;
let alice: string;
let bob: string;

beforeAll(async () => {
  test = await startTestServer();
  ({ edge, edgeId } = await enrollAndConnect(test, 'edge-01', ACK_ALL_ACTIVE));
  const { store } = test.server;
  alice = (await store.users.createToken((await store.users.create('alice', 'user')).id)).token;
  bob = (await store.users.createToken((await store.users.create('bob', 'user')).id)).token;
  // Users forward only inside grants (grant-routes.test.ts); these tests are about the rest.
  for (const user of ['alice', 'bob']) {
    const body = { user, edge: '*', ports: { from: 1, to: 65535 }, protocols: ['tcp', 'udp'] };
    expect((await test.request('POST', '/v1/grants', body)).status).toBe(201);
  }
});
afterAll(async () => {
  await edge.close();
  await test.stop();
});

/** Everything the store holds that a failed request must not have changed. */
async function snapshot() {
  const { store } = test.server;
  return { edges: await store.edges.list(), rules: await store.rules.ofEdge(edgeId) };
}

describe('errors', () => {
  it('the table matches the codes and statuses of docs/server-api.md', () => {
    const doc = readFileSync(new URL('../../../../docs/server-api.md', import.meta.url), 'utf8');
    const rows = [...doc.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]);
    expect(rows.length).toBeGreaterThanOrEqual(11);
    for (const [code, status] of rows) {
      expect(API_ERRORS.table[code as ApiErrorCode]?.status, String(code)).toBe(status);
    }
  });
});

describe('auth', () => {
  it('healthz needs no token', async () => {
    expect(await test.request('GET', '/healthz', undefined, null)).toEqual({
      status: 200,
      body: { ok: true },
    });
  });

  it('refuses no token, a malformed header, and unknown or revoked tokens with 401 unauthorized', async () => {
    const missing = await test.request('GET', '/v1/edges', undefined, null);
    expect(missing).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    const malformed = await test.server.api.inject({
      method: 'GET',
      url: '/v1/edges',
      headers: { authorization: 'Basic abc' },
    });
    expect(malformed.statusCode).toBe(401);
    expect((await test.request('GET', '/v1/edges', undefined, 'slt_nope')).status).toBe(401);
    const { store } = test.server;
    const carol = await store.users.create('carol', 'user');
    const { id, token } = await store.users.createToken(carol.id);
    expect((await test.request('GET', '/v1/edges', undefined, token)).status).toBe(200);
    await store.users.revokeToken(carol.id, id);
    expect((await test.request('GET', '/v1/edges', undefined, token)).body.error.code).toBe('unauthorized');
    const metrics = await test.server.metrics.registry.getSingleMetricAsString(
      'sluice_server_auth_failures_total',
    );
    expect(metrics).toMatch(/reason="missing_token"} [1-9]/);
    expect(metrics).toMatch(/reason="unknown_token"} [1-9]/);
  });

  it('audits denials with who, what and from where', async () => {
    await test.request('POST', '/v1/enrollments', { edge: 'x' }, alice);
    const audit = await test.request('GET', '/v1/audit?limit=1');
    expect(audit.body.entries[0]).toMatchObject({
      user: 'alice',
      action: 'enrollment.create',
      outcome: 'forbidden',
      from: '127.0.0.1',
    });
    expect(Date.parse(audit.body.entries[0].at)).toBeGreaterThan(0);
  });

  it('admin routes are 403 forbidden to a user', async () => {
    const before = await snapshot();
    for (const [method, url, body] of [
      ['POST', '/v1/enrollments', { edge: 'edge-09' }],
      ['PATCH', `/v1/edges/${edgeId}`, { name: 'renamed' }],
      ['POST', `/v1/edges/${edgeId}/revoke`, undefined],
      ['DELETE', `/v1/edges/${edgeId}`, undefined],
      ['GET', '/v1/audit', undefined],
    ] as const) {
      const response = await test.request(method, url, body, alice);
      expect(response.status, `${method} ${url}`).toBe(403);
      expect(response.body.error.code).toBe('forbidden');
    }
    expect(await snapshot()).toEqual(before);
  });
});

describe('bad requests store nothing', () => {
  it.each([
    ['malformed JSON', '{"edge": "edge-01", "rule": {', /^body: not valid JSON/],
    ['a body that is not an object', '[1, 2]', /^body: expected a table/],
    ['no edge', { rule: RULE }, /^edge: required key is missing/],
    ['an unknown top-level key', { edge: 'edge-01', rule: RULE, edgee: 1 }, /unknown key "edgee"/],
    [
      'an invalid listen',
      { edge: 'edge-01', rule: { ...RULE, listen: '127.0.0.1:99999' } },
      /^rule\.listen: /,
    ],
    [
      'a misspelt rule key',
      { edge: 'edge-01', rule: { ...RULE, targetz: [] } },
      /^rule\.targetz: unknown key "targetz"; did you mean "targets"\?/,
    ],
    [
      'no targets',
      { edge: 'edge-01', rule: { name: 'x', listen: '127.0.0.1:1' } },
      /^rule\.targets: required key is missing/,
    ],
    ['a rule that is not a table', { edge: 'edge-01', rule: 'web' }, /^rule: /],
  ])('POST /v1/rules with %s is 400 bad_request naming the field', async (_what, body, message) => {
    const before = await snapshot();
    const response = await test.request('POST', '/v1/rules', body);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('bad_request');
    expect(response.body.error.message).toMatch(message);
    expect(await snapshot()).toEqual(before);
  });

  it.each([
    [{ edge: 'edge 1' }, /^edge: "edge 1" is not a valid edge name/],
    [{ edge: 'e_0123456789ab' }, /looks like an edge id/],
    [{ edge: 'edge-05', ttl: '10 minutes' }, /^ttl: "10 minutes" is not a duration/],
    [{ edge: 'edge-05', ttl: '30s' }, /^ttl: "30s" is outside 1m \.\. 7d/],
    [{ edge: 'edge-05', ttl: '8d' }, /^ttl: "8d" is outside/],
    [{}, /^edge: required key is missing/],
  ])('POST /v1/enrollments %j is 400 and makes no edge', async (body, message) => {
    const before = await snapshot();
    const response = await test.request('POST', '/v1/enrollments', body);
    expect(response).toMatchObject({ status: 400, body: { error: { code: 'bad_request' } } });
    expect(response.body.error.message).toMatch(message);
    expect(await snapshot()).toEqual(before);
  });

  it('validates queries and rename bodies too', async () => {
    expect((await test.request('GET', '/v1/audit?limit=0')).body.error.message).toMatch(/^limit: /);
    expect((await test.request('GET', '/v1/rules?edgy=1')).body.error.message).toMatch(/unknown key "edgy"/);
    const rename = await test.request('PATCH', `/v1/edges/${edgeId}`, { name: '' });
    expect(rename).toMatchObject({ status: 400, body: { error: { code: 'bad_request' } } });
    const wrongType = await test.server.api.inject({
      method: 'POST',
      url: '/v1/rules',
      headers: { authorization: `Bearer ${test.adminToken}`, 'content-type': 'text/plain' },
      payload: 'hello',
    });
    expect(wrongType.statusCode).toBe(400);
    expect(wrongType.json().error.code).toBe('bad_request');
  });
});

describe('rules', () => {
  let ruleId: string;

  it('a user pushes a rule it owns; 201 with the owner', async () => {
    const response = await test.request('POST', '/v1/rules', { edge: 'edge-01', rule: RULE }, alice);
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({
      owner: 'alice',
      state: 'active',
      rule: { ...RULE, owner: 'alice' },
    });
    expect(Date.parse(response.body.createdAt)).toBeGreaterThan(0);
    ruleId = response.body.id;
  });

  it('409 port_in_use for an overlapping listen and name_taken for a used name; nothing stored', async () => {
    const before = await snapshot();
    const overlap = await test.request('POST', '/v1/rules', {
      edge: edgeId,
      rule: { ...RULE, name: 'other', listen: '0.0.0.0:18080' },
    });
    expect(overlap.status).toBe(409);
    expect(overlap.body.error).toMatchObject({ code: 'port_in_use' });
    expect(overlap.body.error.message).toContain(ruleId);
    const range = await test.request('POST', '/v1/rules', {
      edge: edgeId,
      rule: { ...RULE, name: 'range', listen: '127.0.0.1:18000-18100' },
    });
    expect(range.body.error.code).toBe('port_in_use');
    const name = await test.request('POST', '/v1/rules', {
      edge: edgeId,
      rule: { ...RULE, listen: '127.0.0.1:18099' },
    });
    expect(name.status).toBe(409);
    expect(name.body.error.code).toBe('name_taken');
    expect(await snapshot()).toEqual(before);
  });

  it("a user sees only its own rules; another owner's rule is 404, word for word as a missing one", async () => {
    expect((await test.request('GET', '/v1/rules', undefined, alice)).body.rules).toHaveLength(1);
    expect((await test.request('GET', '/v1/rules', undefined, bob)).body.rules).toHaveLength(0);
    expect((await test.request('GET', '/v1/rules?edge=edge-01')).body.rules).toHaveLength(1);
    const before = await snapshot();
    for (const [method, url, body] of [
      ['GET', `/v1/rules/${ruleId}`, undefined],
      ['GET', `/v1/rules/${ruleId}/stats`, undefined],
      ['PUT', `/v1/rules/${ruleId}`, { rule: RULE }],
      ['DELETE', `/v1/rules/${ruleId}`, undefined],
      ['GET', `/v1/stats/stream?rule=${ruleId}`, undefined],
    ] as const) {
      const response = await test.request(method, url, body, bob);
      expect(response.status, `${method} ${url}`).toBe(404);
      const missing = await test.request(method, url.replace(ruleId, 'r_000000000000'), body, bob);
      expect(response.body).toEqual(
        JSON.parse(JSON.stringify(missing.body).replaceAll('r_000000000000', ruleId)),
      );
    }
    const forOther = await test.request(
      'POST',
      '/v1/rules',
      { edge: 'edge-01', owner: 'alice', rule: { ...RULE, name: 'b', listen: '127.0.0.1:18200' } },
      bob,
    );
    expect(forOther.body.error.code).toBe('forbidden');
    expect(await snapshot()).toEqual(before);
  });

  it('an admin may push for another owner and reads every rule', async () => {
    const response = await test.request('POST', '/v1/rules', {
      edge: 'edge-01',
      owner: 'bob',
      rule: { ...RULE, name: 'bobs', listen: '127.0.0.1:18300' },
    });
    expect(response.body).toMatchObject({ owner: 'bob', state: 'active' });
    expect((await test.request('GET', '/v1/rules')).body.rules).toHaveLength(2);
    expect((await test.request('GET', `/v1/rules/${ruleId}`)).body.owner).toBe('alice');
    const stats = await test.request('GET', `/v1/rules/${ruleId}/stats`);
    expect(stats.body).toEqual({
      rule: ruleId,
      at: null,
      ...ZERO_COUNTERS,
      rejectedByReason: {},
      bytesInPerSec: 0,
      bytesOutPerSec: 0,
    });
  });

  it('404 not_found for unknown edges, rules and routes', async () => {
    const before = await snapshot();
    expect((await test.request('POST', '/v1/rules', { edge: 'nope', rule: RULE })).body.error.code).toBe(
      'not_found',
    );
    expect((await test.request('GET', '/v1/rules/r_000000000000')).body.error.code).toBe('not_found');
    expect((await test.request('PUT', '/v1/rules/r_000000000000', { rule: RULE })).status).toBe(404);
    expect((await test.request('DELETE', '/v1/rules/r_000000000000')).status).toBe(404);
    expect((await test.request('GET', '/v1/edges/nope')).status).toBe(404);
    expect((await test.request('GET', '/v1/rules?edge=nope')).status).toBe(404);
    const route = await test.request('GET', '/v1/nothing');
    expect(route).toEqual({
      status: 404,
      body: { error: { code: 'not_found', message: 'no route GET /v1/nothing' } },
    });
    expect(await snapshot()).toEqual(before);
  });

  it('a user removes its own rule', async () => {
    const removed = await test.request('DELETE', `/v1/rules/${ruleId}`, undefined, alice);
    expect(removed).toMatchObject({ status: 200, body: { id: ruleId, state: 'removed' } });
    expect((await test.request('GET', '/v1/rules', undefined, alice)).body.rules).toEqual([]);
  });
});

describe('edges', () => {
  it('lists, shows by id or name, and renames (409 name_taken on a used name)', async () => {
    await test.request('POST', '/v1/enrollments', { edge: 'edge-02' });
    const list = await test.request('GET', '/v1/edges', undefined, alice);
    expect(list.body.edges.map((e: { name: string }) => e.name)).toEqual(['edge-01', 'edge-02']);
    expect(list.body.edges[0]).toMatchObject({
      id: edgeId,
      connected: true,
      revoked: false,
      version: PROTOCOL_VERSION,
      rules: 1,
    });
    expect(Object.keys(list.body.edges[0]).sort()).toEqual(
      ['connected', 'enrolledAt', 'id', 'lastSeenAt', 'name', 'revoked', 'rules', 'version'].sort(),
    );
    const taken = await test.request('PATCH', '/v1/edges/edge-02', { name: 'edge-01' });
    expect(taken).toMatchObject({ status: 409, body: { error: { code: 'name_taken' } } });
    const renamed = await test.request('PATCH', '/v1/edges/edge-02', { name: 'edge-03' });
    expect(renamed).toMatchObject({ status: 200, body: { name: 'edge-03' } });
    expect((await test.request('GET', `/v1/edges/${renamed.body.id}`)).body.name).toBe('edge-03');
  });

  it('a revoked edge refuses pushes with 409 edge_revoked; delete takes its rules', async () => {
    const made = await test.request('POST', '/v1/enrollments', { edge: 'edge-04' });
    const revoked = await test.request('POST', '/v1/edges/edge-04/revoke');
    expect(revoked.body.revoked).toBe(true);
    const before = await snapshot();
    const pushed = await test.request('POST', '/v1/rules', { edge: 'edge-04', rule: RULE });
    expect(pushed).toMatchObject({ status: 409, body: { error: { code: 'edge_revoked' } } });
    expect(await snapshot()).toEqual(before);
    const deleted = await test.request('DELETE', `/v1/edges/${made.body.edge.id}`);
    expect(deleted).toEqual({ status: 204, body: null });
    expect((await test.request('GET', '/v1/edges/edge-04')).status).toBe(404);
  });

  it('audits every change', async () => {
    const entries = (await test.request('GET', '/v1/audit?limit=200')).body.entries as Array<{
      action: string;
      outcome: string;
    }>;
    const actions = new Set(entries.map((e) => `${e.action} ${e.outcome}`));
    for (const expected of [
      'enrollment.create ok',
      'edge.enroll ok',
      'rule.push ok',
      'rule.push port_in_use',
      'rule.push bad_request',
      'rule.remove ok',
      'edge.rename ok',
      'edge.rename name_taken',
      'edge.revoke ok',
      'edge.delete ok',
      'GET /v1/edges unauthorized',
    ]) {
      expect(actions, expected).toContain(expected);
    }
  });
});

describe('internal errors', () => {
  it('are 500 internal without details', async () => {
    const other = await startTestServer();
    await other.server.store.close();
    const response = await other.request('GET', '/v1/edges');
    expect(response).toEqual({
      status: 500,
      body: { error: { code: 'internal', message: 'internal error; the server log has the details' } },
    });
    await other.stop();
  });
});

describe('the contract of @sluice/api', () => {
  it('serves its OpenAPI document without a token', async () => {
    const response = await test.request('GET', '/v1/openapi.json', undefined, null);
    expect(response.status).toBe(200);
    expect(response.body).toEqual(openApiDocument());
  });

  it('has every route of the route table', () => {
    for (const route of API_ROUTES) {
      expect(
        test.server.api.hasRoute({ method: route.method, url: route.path }),
        `${route.method} ${route.path}`,
      ).toBe(true);
    }
  });

  it('answers bodies that the response schemas accept', async () => {
    const rule = await test.request(
      'POST',
      '/v1/rules',
      { edge: 'edge-01', rule: { ...RULE, name: 'contract', listen: '127.0.0.1:18400' } },
      alice,
    );
    expect(rule.status).toBe(201);
    const answers = [
      [ruleSchema, rule.body],
      [ruleSchema, (await test.request('GET', `/v1/rules/${rule.body.id}`)).body],
      [ruleListSchema, (await test.request('GET', '/v1/rules')).body],
      [ruleStatsSchema, (await test.request('GET', `/v1/rules/${rule.body.id}/stats`)).body],
      [edgeListSchema, (await test.request('GET', '/v1/edges')).body],
      [edgeSchema, (await test.request('GET', '/v1/edges/edge-01')).body],
      [enrollmentSchema, (await test.request('POST', '/v1/enrollments', { edge: 'edge-05' })).body],
      [auditListSchema, (await test.request('GET', '/v1/audit')).body],
      [apiErrorBodySchema, (await test.request('GET', '/v1/rules/r_000000000000')).body],
      [ruleSchema, (await test.request('DELETE', `/v1/rules/${rule.body.id}`)).body],
    ] as const;
    for (const [schema, body] of answers) {
      // Strict: a key the contract does not name would fail here, not reach a client by surprise.
      expect(z.strictObject(schema.shape).parse(body)).toEqual(body);
    }
  });
});
