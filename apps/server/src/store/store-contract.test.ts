// The store contract: every operation of the Store, run against both backends (an SQLite file
// and a real PostgreSQL). Quotas, traffic history, replicas and PostgreSQL's concurrency have
// their files beside this one (store-contract-*.test.ts).

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hashSecret } from './secrets.ts';
import { STORE_BACKENDS, useStoreBackend } from './store-backends.fixture.ts';

describe.each(STORE_BACKENDS)('store on %s', (backend) => {
  const fx = useStoreBackend(backend);

  describe('tokens', () => {
    it('stores only the SHA-256 of a token, and refuses unknown and revoked ones', async () => {
      const store = await fx.open();
      const user = await store.users.create('admin', 'admin');
      const { id, token } = await store.users.createToken(user.id);
      expect(await store.users.tokenHashes()).toEqual([hashSecret(token)]);
      expect(await store.users.authenticate(token)).toMatchObject({ name: 'admin', role: 'admin' });
      expect(await store.users.authenticate(`${token}x`)).toBeNull();
      await store.users.revokeToken(user.id, id);
      expect(await store.users.authenticate(token)).toBeNull();
      if (backend !== 'sqlite') return;
      // The token itself appears nowhere in the file, nor in its WAL while open.
      const file = fx.spec;
      const secretPart = Buffer.from(token.slice(4));
      expect(readFileSync(`${file}-wal`).includes(secretPart)).toBe(false);
      await store.close();
      expect(readFileSync(file).includes(secretPart)).toBe(false);
      expect(readFileSync(file).includes(Buffer.from(hashSecret(token)))).toBe(true);
    });
  });

  describe('enrollment codes', () => {
    let now = 1_000_000;
    const clock = () => now;

    it('are used once; the secret is stored as a hash', async () => {
      const store = await fx.open({ now: clock });
      const { code, edge } = await store.edges.createEnrollment('edge-01', 60_000, 'admin');
      const redeemed = await store.edges.redeemEnrollment(code);
      expect(redeemed).toMatchObject({ ok: true, edge: { id: edge.id, name: 'edge-01', enrolledAt: now } });
      if (!redeemed.ok) throw new Error('unreachable');
      expect(await store.edges.secretMatches(edge.id, redeemed.secret)).toBe(true);
      expect(await store.edges.secretMatches(edge.id, `${redeemed.secret}x`)).toBe(false);
      expect(await store.edges.redeemEnrollment(code)).toMatchObject({ ok: false, code: 'code_used' });
      await store.close();
    });

    it('expire at their ttl', async () => {
      const store = await fx.open({ now: clock });
      const { code } = await store.edges.createEnrollment('edge-01', 60_000, 'admin');
      now += 60_000;
      expect(await store.edges.redeemEnrollment(code)).toMatchObject({ ok: false, code: 'code_expired' });
      await store.close();
    });

    it('are superseded by a newer code for the same edge, which keeps its id', async () => {
      const store = await fx.open({ now: clock });
      const first = await store.edges.createEnrollment('edge-01', 60_000, 'admin');
      const second = await store.edges.createEnrollment('edge-01', 60_000, 'admin');
      expect(second.edge.id).toBe(first.edge.id);
      expect(await store.edges.redeemEnrollment(first.code)).toMatchObject({
        ok: false,
        code: 'code_superseded',
      });
      expect(await store.edges.redeemEnrollment('unknown-code')).toMatchObject({
        ok: false,
        code: 'code_unknown',
      });
      expect((await store.edges.redeemEnrollment(second.code)).ok).toBe(true);
      await store.close();
    });

    it('enrolling a revoked edge again lifts the revocation and replaces its secret', async () => {
      const store = await fx.open({ now: clock });
      const first = await store.edges.createEnrollment('edge-01', 60_000, 'admin');
      const old = await store.edges.redeemEnrollment(first.code);
      if (!old.ok) throw new Error('unreachable');
      await store.edges.revoke(first.edge.id);
      const { code } = await store.edges.createEnrollment('edge-01', 60_000, 'admin');
      const again = await store.edges.redeemEnrollment(code);
      expect(again).toMatchObject({ ok: true, edge: { revokedAt: null } });
      expect(await store.edges.secretMatches(first.edge.id, old.secret)).toBe(false);
      await store.close();
    });
  });

  describe('rules', () => {
    it('hold a name per edge while live; a tombstone frees it', async () => {
      const store = await fx.open();
      const { edge } = await store.edges.createEnrollment('edge-01', 60_000, null);
      const body = { name: 'web', listen: '127.0.0.1:1', targets: ['127.0.0.1:2'] };
      const rule = await store.rules.insert({ edgeId: edge.id, owner: 'alice', name: 'web', body });
      expect(rule).toMatchObject({ state: 'pending', revision: 1, edgeName: 'edge-01', body });
      await expect(
        store.rules.insert({ edgeId: edge.id, owner: 'alice', name: 'web', body }),
      ).rejects.toThrow(/UNIQUE|unique/);
      await store.rules.tombstone(rule.id);
      expect(await store.rules.list()).toEqual([]);
      await store.rules.insert({ edgeId: edge.id, owner: 'alice', name: 'web', body });
      expect(await store.rules.purgeTombstones(edge.id)).toBe(1);
      await store.close();
    });

    it('record an ack only for the current revision of a rule of that edge', async () => {
      const store = await fx.open();
      const { edge } = await store.edges.createEnrollment('edge-01', 60_000, null);
      const rule = await store.rules.insert({ edgeId: edge.id, owner: 'a', name: 'web', body: {} });
      await store.rules.revise(rule.id, { name: 'web', body: { changed: true } });
      expect(await store.rules.setState(edge.id, rule.id, 1, 'active')).toBe(false);
      expect(await store.rules.setState('e_other', rule.id, 2, 'active')).toBe(false);
      expect(await store.rules.setState(edge.id, rule.id, 2, 'failed', 'port_in_use', 'busy')).toBe(true);
      expect(await store.rules.get(rule.id)).toMatchObject({
        revision: 2,
        state: 'failed',
        reason: 'port_in_use',
        message: 'busy',
      });
      expect(await store.rules.countByState()).toEqual({ pending: 0, active: 0, failed: 1, removed: 0 });
      await store.close();
    });
  });

  describe('stats', () => {
    it('fold cumulative reports into totals: deltas per boot, a new bootId starts from zero', async () => {
      let now = 0;
      const store = await fx.open({ now: () => now });
      const { edge } = await store.edges.createEnrollment('edge-01', 60_000, null);
      const rule = await store.rules.insert({ edgeId: edge.id, owner: 'a', name: 'web', body: {} });
      const report = (bytesIn: number, active = 0) => ({
        ruleId: rule.id,
        bytesIn,
        bytesOut: 0,
        connectionsTotal: 1,
        activeConnections: active,
        rejected: 0,
        connectErrors: 0,
      });
      await store.stats.record(edge.id, 'boot-a', [report(1000)]);
      now = 5000;
      const [second] = await store.stats.record(edge.id, 'boot-a', [report(6000, 3)]);
      expect(second).toMatchObject({
        bytesIn: 6000,
        bytesInPerSec: 1000,
        connectionsTotal: 1,
        activeConnections: 3,
      });
      expect(await store.stats.get(rule.id)).toEqual(second);
      now = 10_000;
      const [third] = await store.stats.record(edge.id, 'boot-b', [report(500)]);
      expect(third).toMatchObject({ bytesIn: 6500, connectionsTotal: 2, bytesInPerSec: 100 });
      // A report for a rule of another edge is ignored.
      const other = (await store.edges.createEnrollment('edge-02', 60_000, null)).edge;
      expect(await store.stats.record(other.id, 'boot-c', [report(1e9)])).toEqual([]);
      expect(await store.stats.all()).toEqual([
        { ...third, edgeName: 'edge-01', ruleName: 'web', owner: 'a' },
      ]);
      // A new store (a server restart) continues from the stored baseline.
      await store.close();
      const reopened = await fx.open({ now: () => 15_000 });
      expect((await reopened.stats.record(edge.id, 'boot-b', [report(700)]))[0]).toMatchObject({
        bytesIn: 6700,
      });
      await reopened.close();
    });
  });

  describe('audit', () => {
    it('lists the newest entries first', async () => {
      const store = await fx.open();
      await store.audit.add({ user: 'a', action: 'one', target: null, outcome: 'ok', from: '127.0.0.1' });
      await store.audit.add({ user: null, action: 'two', target: 'r_1', outcome: 'forbidden', from: null });
      expect(await store.audit.list({ limit: 1 })).toEqual([
        {
          id: 2,
          at: expect.any(Number),
          user: null,
          action: 'two',
          target: 'r_1',
          outcome: 'forbidden',
          from: null,
          change: null,
        },
      ]);
      expect((await store.audit.list({ limit: 10 })).map((e) => e.action)).toEqual(['two', 'one']);
      await store.close();
    });

    it('filters by user, action and time, and pages by id', async () => {
      const store = await fx.open();
      const entry = (user: string, action: string, at: number) =>
        store.audit.add({ user, action, target: null, outcome: 'ok', from: null, at });
      await entry('a', 'rule.push', 1000);
      await entry('b', 'rule.push', 2000);
      await entry('a', 'rule.remove', 3000);
      await entry('a', 'rule.push', 4000);
      const ids = async (filter: Parameters<typeof store.audit.list>[0]) =>
        (await store.audit.list(filter)).map((e) => e.id);
      expect(await ids({ limit: 10, user: 'a' })).toEqual([4, 3, 1]);
      expect(await ids({ limit: 10, action: 'rule.push' })).toEqual([4, 2, 1]);
      expect(await ids({ limit: 10, user: 'a', action: 'rule.push' })).toEqual([4, 1]);
      expect(await ids({ limit: 10, since: 2000, until: 4000 })).toEqual([3, 2]);
      expect(await ids({ limit: 2 })).toEqual([4, 3]);
      expect(await ids({ limit: 2, before: 3 })).toEqual([2, 1]);
      expect(await ids({ limit: 2, before: 1 })).toEqual([]);
      await store.close();
    });
  });

  describe('transactions', () => {
    it('commit every aggregate together, or roll all of them back when the body throws', async () => {
      const store = await fx.open();
      const { edge } = await store.edges.createEnrollment('edge-01', 60_000, null);
      const failure = new Error('half-way');
      await expect(
        store.transaction(async (tx) => {
          await tx.rules.insert({ edgeId: edge.id, owner: 'a', name: 'web', body: {} });
          await tx.audit.add({ user: 'a', action: 'rule.push', target: null, outcome: 'ok', from: null });
          throw failure;
        }),
      ).rejects.toBe(failure);
      expect(await store.rules.list()).toEqual([]);
      expect(await store.audit.list({ limit: 10 })).toEqual([]);

      const rule = await store.transaction(async (tx) => {
        const inserted = await tx.rules.insert({ edgeId: edge.id, owner: 'a', name: 'web', body: {} });
        await tx.audit.add({
          user: 'a',
          action: 'rule.push',
          target: inserted.id,
          outcome: 'ok',
          from: null,
        });
        return inserted;
      });
      expect((await store.rules.list()).map((r) => r.id)).toEqual([rule.id]);
      expect((await store.audit.list({ limit: 10 })).map((e) => e.target)).toEqual([rule.id]);
      await store.close();
    });

    it('keep other callers out until they end: a write meanwhile is not rolled back with them', async () => {
      const store = await fx.open();
      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let entered!: () => void;
      const inside = new Promise<void>((resolve) => {
        entered = resolve;
      });
      const rolledBack = store.transaction(async (tx) => {
        await tx.audit.add({ user: null, action: 'inside', target: null, outcome: 'ok', from: null });
        entered();
        await held;
        throw new Error('roll back');
      });
      await inside;
      const outside = store.audit.add({
        user: null,
        action: 'outside',
        target: null,
        outcome: 'ok',
        from: null,
      });
      let outsideDone = false;
      void outside.then(() => {
        outsideDone = true;
      });
      // SQLite: give the outside write every chance to run early; it must still wait. PostgreSQL
      // runs it on another connection at once, outside the transaction.
      await new Promise((resolve) => setImmediate(resolve));
      if (backend === 'sqlite') expect(outsideDone).toBe(false);
      release();
      await expect(rolledBack).rejects.toThrow('roll back');
      await outside;
      expect((await store.audit.list({ limit: 10 })).map((e) => e.action)).toEqual(['outside']);
      await store.close();
    });

    it('refuse the store itself inside a transaction, which would wait for its own end', async () => {
      const store = await fx.open();
      await expect(
        store.transaction(async (tx) => {
          await tx.audit.add({ user: null, action: 'inside', target: null, outcome: 'ok', from: null });
          await store.audit.add({ user: null, action: 'outside', target: null, outcome: 'ok', from: null });
        }),
      ).rejects.toThrow(/use its tx/);
      expect(await store.audit.list({ limit: 10 })).toEqual([]);
      await store.close();
    });

    it('a store method that is atomic on its own is undone with the transaction it runs in', async () => {
      const store = await fx.open();
      await expect(
        store.transaction(async (tx) => {
          await tx.edges.createEnrollment('edge-01', 60_000, null);
          throw new Error('undo');
        }),
      ).rejects.toThrow('undo');
      expect(await store.edges.list()).toEqual([]);
      await store.close();
    });
  });
});
