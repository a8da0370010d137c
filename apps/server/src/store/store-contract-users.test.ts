// Users, tokens, web sessions and edges on both backends: every operation of UserStore and
// EdgeStore that store-contract.test.ts does not already cover.

import { beforeEach, describe, expect, it } from 'vitest';
import { TOKEN_USE_RESOLUTION_MS } from './records.ts';
import type { Store } from './store.ts';
import { STORE_BACKENDS, useStoreBackend } from './store-backends.fixture.ts';

describe.each(STORE_BACKENDS)('users and edges on %s', (backend) => {
  const fx = useStoreBackend(backend);
  let now: number;
  let store: Store;

  beforeEach(async () => {
    now = 1_000_000;
    store = await fx.open({ now: () => now });
  });

  it('users: create, count, list by name, find by id or name, update, passwords', async () => {
    expect(await store.users.count()).toBe(0);
    const bob = await store.users.create('bob', 'user', 'Bob B.');
    const ann = await store.users.create('ann', 'admin');
    expect(ann).toEqual({
      id: expect.stringMatching(/^u_/),
      name: 'ann',
      displayName: 'ann',
      role: 'admin',
      createdAt: now,
      disabled: false,
      hasPassword: false,
      mustChangePassword: false,
    });
    expect(await store.users.count()).toBe(2);
    expect((await store.users.list()).map((u) => u.name)).toEqual(['ann', 'bob']);
    expect(await store.users.getByName('bob')).toEqual(bob);
    expect(await store.users.getByName('nobody')).toBeNull();
    expect(await store.users.find(bob.id)).toEqual(bob);
    expect(await store.users.find('bob')).toEqual(bob);
    expect(await store.users.find('nobody')).toBeNull();

    now += 1;
    expect(await store.users.update(bob.id, { displayName: 'Robert', disabled: true })).toMatchObject({
      displayName: 'Robert',
      disabled: true,
    });
    expect(await store.users.update(bob.id, { disabled: false })).toMatchObject({ disabled: false });
    expect(await store.users.update('u_none', { disabled: true })).toBeNull();

    expect(await store.users.passwordHash(ann.id)).toBeNull();
    await store.users.setPassword(ann.id, '$argon2id$x', true);
    expect(await store.users.passwordHash(ann.id)).toBe('$argon2id$x');
    expect(await store.users.find(ann.id)).toMatchObject({ hasPassword: true, mustChangePassword: true });
    await store.users.setPassword(ann.id, '$argon2id$y', false);
    expect(await store.users.find(ann.id)).toMatchObject({ mustChangePassword: false });
  });

  it('tokens: listed oldest first with their use and revocation; a disabled user authenticates nothing', async () => {
    const ann = await store.users.create('ann', 'user');
    const first = await store.users.createToken(ann.id, 'laptop');
    now += 10;
    const second = await store.users.createToken(ann.id);
    now += 10;
    expect(await store.users.authenticate(first.token)).toMatchObject({ id: ann.id });
    expect(await store.users.listTokens(ann.id)).toEqual([
      {
        id: first.id,
        userId: ann.id,
        name: 'laptop',
        createdAt: 1_000_000,
        lastUsedAt: now,
        revokedAt: null,
      },
      { id: second.id, userId: ann.id, name: '', createdAt: 1_000_010, lastUsedAt: null, revokedAt: null },
    ]);
    const other = await store.users.create('bob', 'user');
    expect(await store.users.revokeToken(other.id, first.id)).toBeNull();
    expect(await store.users.revokeToken(ann.id, first.id)).toMatchObject({ revokedAt: now });
    now += 10;
    // Revoking again keeps the first revocation's time.
    expect(await store.users.revokeToken(ann.id, first.id)).toMatchObject({ revokedAt: now - 10 });
    await store.users.update(ann.id, { disabled: true });
    expect(await store.users.authenticate(second.token)).toBeNull();
  });

  it('tokens: the last use moves at most once a minute, so a busy script does not write on every request', async () => {
    const ann = await store.users.create('ann', 'user');
    const made = await store.users.createToken(ann.id);
    const usedAt = async () => (await store.users.listTokens(ann.id))[0]?.lastUsedAt;
    const first = now;
    await store.users.authenticate(made.token);
    expect(await usedAt()).toBe(first);
    now += TOKEN_USE_RESOLUTION_MS - 1;
    await store.users.authenticate(made.token);
    expect(await usedAt()).toBe(first);
    now += 1;
    await store.users.authenticate(made.token);
    expect(await usedAt()).toBe(first + TOKEN_USE_RESOLUTION_MS);
  });

  it('sessions: live while used within the idle time and the max age; ended singly or all but one', async () => {
    const ann = await store.users.create('ann', 'user');
    const one = await store.users.createSession(ann.id);
    const two = await store.users.createSession(ann.id);
    const three = await store.users.createSession(ann.id);
    now += 500;
    expect(await store.users.session(one.cookie, 1000, 10_000)).toMatchObject({
      id: one.id,
      user: { name: 'ann' },
      createdAt: 1_000_000,
      lastSeenAt: now,
    });
    expect(await store.users.session('sls_unknown', 1000, 10_000)).toBeNull();
    now += 900;
    // one was used 900 ms ago, two never since 1400 ms: idle past 1000.
    expect(await store.users.session(one.cookie, 1000, 10_000)).not.toBeNull();
    expect(await store.users.session(two.cookie, 1000, 10_000)).toBeNull();
    // An expired session is deleted, not merely refused.
    expect(await store.users.session(two.cookie, 1e9, 1e9)).toBeNull();
    // Too old, however recently used.
    expect(await store.users.session(one.cookie, 1000, 1000)).toBeNull();
    expect(await store.users.session(three.cookie, 1e9, 1e9)).not.toBeNull();
    await store.users.update(ann.id, { disabled: true });
    expect(await store.users.session(three.cookie, 1e9, 1e9)).toBeNull();
    await store.users.update(ann.id, { disabled: false });
    const four = await store.users.createSession(ann.id);
    expect(await store.users.deleteSessions(ann.id, four.id)).toBe(1);
    expect(await store.users.session(four.cookie, 1e9, 1e9)).not.toBeNull();
    await store.users.deleteSession(four.id);
    expect(await store.users.session(four.cookie, 1e9, 1e9)).toBeNull();
    await store.users.createSession(ann.id);
    await store.users.createSession(ann.id);
    expect(await store.users.deleteSessions(ann.id)).toBe(2);
  });

  it('deleting a user answers what went with it', async () => {
    const ann = await store.users.create('ann', 'user');
    await store.users.createToken(ann.id);
    await store.users.createToken(ann.id);
    await store.users.createSession(ann.id);
    expect(await store.users.delete(ann.id)).toEqual({ tokens: 2, sessions: 1 });
    expect(await store.users.delete(ann.id)).toBeNull();
    expect(await store.users.tokenHashes()).toEqual([]);
  });

  it('edges: find, list by name with live rule counts, rename, revoke, seen, delete', async () => {
    const b = (await store.edges.createEnrollment('edge-b', 60_000, null)).edge;
    const a = (await store.edges.createEnrollment('edge-a', 60_000, null)).edge;
    expect(a).toEqual({
      id: expect.stringMatching(/^e_/),
      name: 'edge-a',
      version: null,
      createdAt: now,
      enrolledAt: null,
      lastSeenAt: null,
      revokedAt: null,
    });
    expect(await store.edges.ruleCounts()).toEqual(new Map());
    const live = await store.rules.insert({ edgeId: a.id, owner: 'o', name: 'one', body: {} });
    const gone = await store.rules.insert({ edgeId: a.id, owner: 'o', name: 'two', body: {} });
    await store.rules.tombstone(gone.id);
    // Live rules only, per edge; an edge with none is left out.
    expect(await store.edges.ruleCounts()).toEqual(new Map([[a.id, 1]]));
    expect(await store.edges.ruleCounts(a.id)).toEqual(new Map([[a.id, 1]]));
    expect(await store.edges.ruleCounts(b.id)).toEqual(new Map());
    await store.rules.insert({ edgeId: b.id, owner: 'o', name: 'three', body: {} });
    expect(await store.edges.ruleCounts()).toEqual(
      new Map([
        [a.id, 1],
        [b.id, 1],
      ]),
    );
    expect((await store.edges.list()).map((edge) => edge.name)).toEqual(['edge-a', 'edge-b']);
    expect(await store.edges.find('edge-a')).toMatchObject({ id: a.id });
    expect(await store.edges.find(b.id)).toMatchObject({ name: 'edge-b' });
    expect(await store.edges.find('nothing')).toBeNull();
    expect(await store.edges.get(a.id)).toMatchObject({ name: 'edge-a' });
    expect(await store.edges.get('e_none')).toBeNull();

    expect(await store.edges.rename(a.id, 'edge-b')).toBeNull();
    expect(await store.edges.rename(a.id, 'edge-c')).toMatchObject({ id: a.id, name: 'edge-c' });
    expect(await store.edges.rename(a.id, 'edge-c')).toMatchObject({ name: 'edge-c' });

    now += 5;
    await store.edges.seen(a.id, null);
    expect(await store.edges.get(a.id)).toMatchObject({ lastSeenAt: now, version: null });
    now += 5;
    await store.edges.seen(a.id, 3);
    expect(await store.edges.get(a.id)).toMatchObject({ lastSeenAt: now, version: 3 });

    const revokedAt = now;
    expect(await store.edges.revoke(a.id)).toMatchObject({ revokedAt });
    now += 5;
    expect(await store.edges.revoke(a.id)).toMatchObject({ revokedAt });
    expect(await store.edges.secretMatches(a.id, 'anything')).toBe(false);
    expect(await store.edges.secretMatches('e_none', 'anything')).toBe(false);

    expect(await store.edges.delete(a.id)).toBe(true);
    expect(await store.edges.delete(a.id)).toBe(false);
    // Its rules went with it.
    expect(await store.rules.get(live.id)).toBeNull();
  });

  it('edges: lock holds inside a transaction and refuses nothing', async () => {
    const { edge } = await store.edges.createEnrollment('edge-a', 60_000, null);
    const rule = await store.transaction(async (tx) => {
      await tx.edges.lock(edge.id);
      await tx.edges.lock('e_none');
      return tx.rules.insert({ edgeId: edge.id, owner: 'o', name: 'web', body: {} });
    });
    expect(await store.rules.get(rule.id)).toMatchObject({ name: 'web' });
  });

  it('rules: filtered lists, the tombstones of an edge, revisions, deletes and purges of some', async () => {
    const a = (await store.edges.createEnrollment('edge-a', 60_000, null)).edge;
    const b = (await store.edges.createEnrollment('edge-b', 60_000, null)).edge;
    const insert = (edgeId: string, owner: string, name: string) =>
      store.rules.insert({ edgeId, owner, name, body: { name } });
    const a1 = await insert(a.id, 'ann', 'web');
    const a2 = await insert(a.id, 'bob', 'db');
    const b1 = await insert(b.id, 'ann', 'api');
    const names = (rules: { name: string }[]) => rules.map((rule) => rule.name);
    expect(names(await store.rules.list())).toEqual(['db', 'web', 'api']);
    expect(names(await store.rules.list({ edgeId: a.id }))).toEqual(['db', 'web']);
    expect(names(await store.rules.list({ owner: 'ann' }))).toEqual(['web', 'api']);
    expect(names(await store.rules.list({ edgeId: a.id, owner: 'ann' }))).toEqual(['web']);

    now += 7;
    expect(await store.rules.revise(a1.id, { name: 'www', body: { port: 1 } })).toMatchObject({
      name: 'www',
      revision: 2,
      state: 'pending',
      body: { port: 1 },
      updatedAt: now,
      createdAt: 1_000_000,
    });
    expect(await store.rules.tombstone(a2.id)).toMatchObject({ state: 'removed' });
    expect(await store.rules.tombstone('r_none')).toBeNull();
    expect(names(await store.rules.ofEdge(a.id))).toEqual(['db', 'www']);
    expect(await store.rules.countByState()).toEqual({ pending: 2, active: 0, failed: 0, removed: 1 });
    // setState never revives a tombstone.
    expect(await store.rules.setState(a.id, a2.id, 1, 'active')).toBe(false);

    const a3 = await insert(a.id, 'ann', 'three');
    await store.rules.tombstone(a3.id);
    expect(await store.rules.purgeTombstones(a.id, [])).toBe(0);
    expect(await store.rules.purgeTombstones(b.id, [a2.id])).toBe(0);
    expect(await store.rules.purgeTombstones(a.id, [a2.id, a1.id])).toBe(1);
    expect(names(await store.rules.ofEdge(a.id))).toEqual(['three', 'www']);
    expect(await store.rules.delete(b1.id)).toBe(true);
    expect(await store.rules.delete(b1.id)).toBe(false);
  });
});
