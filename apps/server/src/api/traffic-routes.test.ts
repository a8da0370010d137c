// GET /v1/traffic against a real server: stats recorded through the store (as the control
// session records an edge's reports), then the samples and totals per scope, a user's view of
// only its own rules, and a 400 naming the parameter for each bad query.

import { trafficSchema } from '@sluice/api';
import type { RuleStats } from '@sluice/protocol';
import { ACK_ALL_ACTIVE, type FakeEdge, ZERO_COUNTERS } from '@sluice/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrollAndConnect, startTestServer, type TestServer } from '../test-harness.ts';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const T0 = Date.parse('2026-12-01T00:00:00Z');

let now = T0;
let test: TestServer;
let edge: FakeEdge;
let edgeId: string;
let alice: string;
let bob: string;
const ids = { a1: '', a2: '', b1: '' };

function report(ruleId: string, bytesIn: number, bytesOut: number): RuleStats {
  return { ...ZERO_COUNTERS, ruleId, bytesIn, bytesOut };
}

async function push(name: string, owner: string, port: number): Promise<string> {
  const rule = { name, listen: `127.0.0.1:${port}`, targets: ['127.0.0.1:9'] };
  const pushed = await test.request('POST', '/v1/rules', { edge: 'edge-01', owner, rule });
  if (pushed.status !== 201) throw new Error(JSON.stringify(pushed.body));
  return pushed.body.id;
}

async function traffic(query: string, token?: string) {
  return test.request('GET', `/v1/traffic${query}`, undefined, token);
}

beforeAll(async () => {
  test = await startTestServer({ now: () => now });
  ({ edge, edgeId } = await enrollAndConnect(test, 'edge-01', ACK_ALL_ACTIVE));
  await enrollAndConnect(test, 'edge-02', ACK_ALL_ACTIVE).then(({ edge: other }) => other.close());
  const { store } = test.server;
  alice = (await store.users.createToken((await store.users.create('alice', 'user')).id)).token;
  bob = (await store.users.createToken((await store.users.create('bob', 'user')).id)).token;
  const granted = await test.request('POST', '/v1/grants', {
    user: 'alice',
    edge: 'edge-01',
    ports: { from: 26000, to: 26009 },
    protocols: ['tcp'],
  });
  expect(granted.status).toBe(201);
  ids.a1 = await push('a1', 'alice', 26001);
  ids.a2 = await push('a2', 'alice', 26002);
  ids.b1 = await push('b1', 'bob', 26003);
  // Three reports: two in the first minute, one an hour and a minute later.
  now = T0 + 1000;
  await store.stats.record(edgeId, 'boot', [report(ids.a1, 100, 10), report(ids.b1, 5000, 500)]);
  now = T0 + 30_000;
  await store.stats.record(edgeId, 'boot', [report(ids.a1, 150, 20), report(ids.a2, 7, 3)]);
  now = T0 + HOUR + MINUTE + 1000;
  await store.stats.record(edgeId, 'boot', [report(ids.a1, 250, 40), report(ids.b1, 6000, 600)]);
  now = T0 + 2 * HOUR;
});
afterAll(async () => {
  await edge.close();
  await test.stop();
});

const at = (ms: number) => new Date(ms).toISOString();

describe('GET /v1/traffic', () => {
  it('answers the samples of the last 24 h of 1m buckets, summed over all rules, and their totals', async () => {
    const answer = await traffic('');
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(trafficSchema.parse(answer.body)).toEqual({
      bucket: '1m',
      from: at(T0 + 2 * HOUR - 24 * HOUR),
      to: at(T0 + 2 * HOUR),
      samples: [
        { at: at(T0), bytesIn: 5157, bytesOut: 523 },
        { at: at(T0 + HOUR + MINUTE), bytesIn: 1100, bytesOut: 120 },
      ],
      totals: { bytesIn: 6257, bytesOut: 643 },
    });
  });

  it('scopes by rule, edge and user, in 1h buckets, over a range rounded down to a bucket start', async () => {
    const rule = await traffic(`?rule=${ids.a1}&bucket=1h`);
    expect(rule.body.samples).toEqual([
      { at: at(T0), bytesIn: 150, bytesOut: 20 },
      { at: at(T0 + HOUR), bytesIn: 100, bytesOut: 20 },
    ]);
    expect(rule.body.from).toBe(at(T0 + 2 * HOUR - 30 * 24 * HOUR));
    const byEdge = await traffic(`?edge=edge-01&bucket=1h&from=${at(T0 + 1000)}&to=${at(T0 + HOUR)}`);
    expect(byEdge.body).toMatchObject({
      from: at(T0),
      to: at(T0 + HOUR),
      samples: [{ at: at(T0), bytesIn: 5157, bytesOut: 523 }],
      totals: { bytesIn: 5157, bytesOut: 523 },
    });
    const byUser = await traffic('?user=alice&from=2026-12-01T01:00:00%2B01:00');
    expect(byUser.body.from).toBe(at(T0));
    expect(byUser.body.totals).toEqual({ bytesIn: 257, bytesOut: 43 });
    expect((await traffic('?edge=edge-02')).body.samples).toEqual([]);
  });

  it('shows a user only its own rules', async () => {
    const own = await traffic('', alice);
    expect(own.status).toBe(200);
    expect(own.body.totals).toEqual({ bytesIn: 257, bytesOut: 43 });
    // The edge's traffic, as far as alice's rules go: bob's rule on it is not counted.
    expect((await traffic('?edge=edge-01', alice)).body.totals).toEqual({ bytesIn: 257, bytesOut: 43 });
    expect((await traffic(`?rule=${ids.a2}`, alice)).body.totals).toEqual({ bytesIn: 7, bytesOut: 3 });
    expect((await traffic('?user=alice', alice)).status).toBe(200);
    // bob holds no grant: he sees his own rules' traffic, but not edge-01 as an edge.
    expect((await traffic('', bob)).body.totals).toEqual({ bytesIn: 6000, bytesOut: 600 });
    expect((await traffic('?edge=edge-01', bob)).status).toBe(404);
  });

  it("answers another user's rule or user as not found, word for word as unknown ones", async () => {
    const rule = await traffic(`?rule=${ids.b1}`, alice);
    expect(rule.status).toBe(404);
    expect(rule.body.error).toEqual({ code: 'not_found', message: `rule: no rule with id "${ids.b1}"` });
    const user = await traffic('?user=bob', alice);
    expect(user.status).toBe(404);
    expect(user.body.error).toEqual({ code: 'not_found', message: 'user: no user named "bob"' });
    expect((await traffic('?rule=r_nope', alice)).status).toBe(404);
    expect((await traffic('?user=nobody')).status).toBe(404);
    expect((await traffic('?edge=edge-99')).status).toBe(404);
  });

  it("keeps a removed rule's history for its owner", async () => {
    const removed = await test.request('DELETE', `/v1/rules/${ids.a2}`, undefined, alice);
    expect(removed.status).toBe(200);
    await test.server.store.rules.delete(ids.a2);
    expect((await traffic(`?rule=${ids.a2}`, alice)).body.totals).toEqual({ bytesIn: 7, bytesOut: 3 });
    expect((await traffic(`?rule=${ids.a2}`, bob)).status).toBe(404);
    expect((await traffic('', alice)).body.totals).toEqual({ bytesIn: 257, bytesOut: 43 });
  });

  it.each([
    ['bucket', '?bucket=5m', /^bucket: must be one of 1m, 1h/],
    ['from', '?from=yesterday', /^from: not an ISO 8601 time/],
    ['to', '?to=2026-13-01T00:00:00Z', /^to: /],
    ['from', `?from=${at(T0)}&to=${at(T0)}`, /^from: .* is not before to/],
    ['from', `?from=${at(T0 + 3 * HOUR)}`, /^from: .* is not before to/],
    ['edge', '?rule=r_1&edge=edge-01', /^edge: give at most one of rule, edge and user/],
    ['user', '?edge=edge-01&user=alice', /^user: give at most one/],
    ['colour', '?colour=red', /colour/],
  ])('a bad %s is 400 bad_request naming it', async (_name, query, message) => {
    const answer = await traffic(query);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('bad_request');
    expect(answer.body.error.message).toMatch(message);
  });

  it('refuses a range of more buckets than one query may, naming from, to and the bound', async () => {
    const answer = await traffic(`?from=${at(T0 - 40 * 24 * HOUR)}`);
    expect(answer.status).toBe(400);
    expect(answer.body.error.code).toBe('bad_request');
    expect(answer.body.error.message).toMatch(
      /^from, to: the range spans 57720 buckets of 1m, more than the 50000/,
    );
    // The same range in 1h buckets is fine.
    expect((await traffic(`?bucket=1h&from=${at(T0 - 40 * 24 * HOUR)}`)).status).toBe(200);
  });
});
