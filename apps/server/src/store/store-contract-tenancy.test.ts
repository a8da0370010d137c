// Grants and owner limits on both backends, and the quota list.

import { beforeEach, describe, expect, it } from 'vitest';
import type { Store } from './store.ts';
import { STORE_BACKENDS, useStoreBackend } from './store-backends.fixture.ts';

describe.each(STORE_BACKENDS)('tenancy on %s', (backend) => {
  const fx = useStoreBackend(backend);
  let now: number;
  let store: Store;
  let ann: string;
  let bob: string;
  let edgeA: string;
  let edgeB: string;

  beforeEach(async () => {
    now = 5_000;
    store = await fx.open({ now: () => now });
    ann = (await store.users.create('ann', 'user')).id;
    bob = (await store.users.create('bob', 'user')).id;
    edgeA = (await store.edges.createEnrollment('edge-a', 60_000, null)).edge.id;
    edgeB = (await store.edges.createEnrollment('edge-b', 60_000, null)).edge.id;
  });

  it('grants: made with names joined in, listed by user and by edge (star grants included), deleted', async () => {
    const one = await store.grants.create({
      userId: ann,
      edgeId: edgeA,
      portLo: 10,
      portHi: 20,
      protocols: ['tcp'],
    });
    expect(one).toEqual({
      id: expect.stringMatching(/^g_/),
      userId: ann,
      userName: 'ann',
      edgeId: edgeA,
      edgeName: 'edge-a',
      portLo: 10,
      portHi: 20,
      protocols: ['tcp'],
      createdAt: 5_000,
    });
    now += 1;
    const star = await store.grants.create({
      userId: bob,
      edgeId: null,
      portLo: 1,
      portHi: 65535,
      protocols: ['tcp', 'udp'],
    });
    expect(star).toMatchObject({ edgeId: null, edgeName: null, protocols: ['tcp', 'udp'] });
    now += 1;
    const udp = await store.grants.create({
      userId: ann,
      edgeId: edgeB,
      portLo: 5,
      portHi: 5,
      protocols: ['udp'],
    });
    const ids = (grants: { id: string }[]) => grants.map((grant) => grant.id);
    expect(await store.grants.get(one.id)).toEqual(one);
    expect(await store.grants.get('g_none')).toBeNull();
    expect(ids(await store.grants.list())).toEqual([one.id, star.id, udp.id]);
    expect(ids(await store.grants.list({ userId: ann }))).toEqual([one.id, udp.id]);
    expect(ids(await store.grants.list({ edgeId: edgeA }))).toEqual([one.id, star.id]);
    expect(ids(await store.grants.list({ userId: ann, edgeId: edgeB }))).toEqual([udp.id]);
    expect(ids(await store.grants.listByUser(bob))).toEqual([star.id]);
    expect(await store.grants.delete(one.id)).toBe(true);
    expect(await store.grants.delete(one.id)).toBe(false);
    // Grants go with their edge and their user.
    await store.edges.delete(edgeB);
    await store.users.delete(bob);
    expect(await store.grants.list()).toEqual([]);
  });

  it('owner limits: set replaces, per edge and owner; ofEdge is the push table; delete', async () => {
    expect(await store.ownerLimits.get(edgeA, 'ann')).toBeNull();
    await store.ownerLimits.set(edgeA, 'ann', { bandwidth: '1M' });
    now += 1;
    const replaced = await store.ownerLimits.set(edgeA, 'ann', { bandwidth: '2M', max_connections: 5 });
    expect(replaced).toEqual({
      edgeId: edgeA,
      owner: 'ann',
      limits: { bandwidth: '2M', max_connections: 5 },
      updatedAt: 5_001,
    });
    expect(await store.ownerLimits.get(edgeA, 'ann')).toEqual(replaced);
    await store.ownerLimits.set(edgeA, 'bob', { bandwidth: '3M' });
    await store.ownerLimits.set(edgeB, 'ann', { bandwidth: '4M' });
    expect(await store.ownerLimits.ofEdge(edgeA)).toEqual({
      ann: { bandwidth: '2M', max_connections: 5 },
      bob: { bandwidth: '3M' },
    });
    expect(await store.ownerLimits.delete(edgeA, 'bob')).toBe(true);
    expect(await store.ownerLimits.delete(edgeA, 'bob')).toBe(false);
    expect(Object.keys(await store.ownerLimits.ofEdge(edgeA))).toEqual(['ann']);
  });

  it('quotas: listed by user or by edge, ordered by user then edge', async () => {
    const anchor = Date.UTC(2026, 0, 1);
    await store.quotas.set(bob, edgeA, 100, anchor);
    await store.quotas.set(ann, edgeB, 100, anchor);
    await store.quotas.set(ann, edgeA, 100, anchor);
    const pairs = (quotas: { userName: string; edgeName: string }[]) =>
      quotas.map((quota) => `${quota.userName}@${quota.edgeName}`);
    expect(pairs(await store.quotas.list({}))).toEqual(['ann@edge-a', 'ann@edge-b', 'bob@edge-a']);
    expect(pairs(await store.quotas.list({ userId: ann }))).toEqual(['ann@edge-a', 'ann@edge-b']);
    expect(pairs(await store.quotas.list({ edgeId: edgeA }))).toEqual(['ann@edge-a', 'bob@edge-a']);
    expect(pairs(await store.quotas.list({ userId: bob, edgeId: edgeB }))).toEqual([]);
    expect(await store.quotas.get(bob, edgeB)).toBeNull();
    expect(await store.quotas.clear(bob, edgeB)).toBeNull();
  });
});
