import { ownerLimitsSchema } from '@sluice/api';
import { ACK_ALL_ACTIVE, type FakeEdge } from '@sluice/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectWith, enrollAndConnect, startTestServer, type TestServer } from '../test-harness.ts';

const URL = '/v1/edges/edge-01/owners/team/limits';

let test: TestServer;
let edge: FakeEdge;
let edgeId: string;
let secret: string;
let user: string;

beforeAll(async () => {
  test = await startTestServer();
  ({ edge, edgeId, secret } = await enrollAndConnect(test, 'edge-01', ACK_ALL_ACTIVE));
  const { store } = test.server;
  user = (await store.users.createToken((await store.users.create('team', 'user')).id)).token;
});
afterAll(async () => {
  await edge.close();
  await test.stop();
});

describe('owner caps per edge', () => {
  it('set: stored, answered, and pushed to the edge as owners', async () => {
    const limits = { bandwidth: '10Mbit', max_connections: 50 };
    const set = await test.request('PUT', URL, { limits });
    expect(set.status).toBe(200);
    expect(ownerLimitsSchema.parse(set.body)).toMatchObject({ owner: 'team', limits, edge: { id: edgeId } });
    expect(edge.received.at(-1)).toMatchObject({ type: 'push', full: false, owners: { team: limits } });
    expect((await test.request('GET', URL)).body.limits).toEqual(limits);
  });

  it('come back with the full push when the edge reconnects', async () => {
    await edge.close();
    edge = await connectWith(test, edgeId, secret, ACK_ALL_ACTIVE);
    const full = edge.received.find((message) => message.type === 'push');
    expect(full).toMatchObject({
      full: true,
      owners: { team: { bandwidth: '10Mbit', max_connections: 50 } },
    });
  });

  it.each([
    ['limits.bandwidth', { limits: { bandwidth: 'fast' } }],
    ['limits.max_connections', { limits: { max_connections: 0 } }],
    ['limits.burst', { limits: { burst: '1Mbit' } }],
    ['limits.colour', { limits: { colour: 'red' } }],
    ['limits', { limits: 'none' }],
    ['limits', {}],
    ['extra', { limits: {}, extra: 1 }],
  ])('a bad body is 400 naming %s, and nothing changes', async (field, body) => {
    const before = await test.server.store.ownerLimits.ofEdge(edgeId);
    const pushes = edge.received.length;
    const answer = await test.request('PUT', URL, body);
    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toContain(field);
    expect(await test.server.store.ownerLimits.ofEdge(edgeId)).toEqual(before);
    expect(edge.received.length).toBe(pushes);
  });

  it('admin only; unknown edges and owners are 404', async () => {
    expect((await test.request('PUT', URL, { limits: {} }, user)).status).toBe(403);
    expect((await test.request('GET', URL, undefined, user)).status).toBe(403);
    expect((await test.request('GET', '/v1/edges/edge-99/owners/team/limits')).status).toBe(404);
    expect((await test.request('GET', '/v1/edges/edge-01/owners/nobody/limits')).status).toBe(404);
  });

  it('delete: gone from the store and from the edge', async () => {
    expect((await test.request('DELETE', URL)).status).toBe(204);
    expect(edge.received.at(-1)).toMatchObject({ type: 'push', owners: {} });
    expect((await test.request('GET', URL)).status).toBe(404);
    expect((await test.request('DELETE', URL)).status).toBe(404);
    const audit = (await test.request('GET', '/v1/audit?limit=50')).body.entries.map(
      (entry: { action: string }) => entry.action,
    );
    expect(audit).toEqual(expect.arrayContaining(['owner_limits.set', 'owner_limits.delete']));
  });
});
