// What only PostgreSQL has: several servers (here, several store instances, each with its own
// pool) on one database at once, and a database that goes away and comes back. A code is
// redeemed once however many redeem it together; a transaction that locks an edge sees the rules
// another wrote under the same lock; two folds of one edge's report count it once; a store whose
// database is down answers store_unavailable, and works again once it is back.

import type { RuleStats } from '@sluice/protocol';
import { pollUntil, rejectedCode, ZERO_COUNTERS } from '@sluice/test-kit';
import { describe, expect, it } from 'vitest';
import { useStoreBackend } from './store-backends.fixture.ts';
import { rawQuery } from './store-raw.fixture.ts';

const report = (ruleId: string, bytesIn: number): RuleStats => ({ ...ZERO_COUNTERS, ruleId, bytesIn });

describe('store on postgres, shared', () => {
  const fx = useStoreBackend('postgres');

  it('redeems a code at most once across connections', async () => {
    const stores = await Promise.all([fx.open(), fx.open()]);
    const { code } = await stores[0]!.edges.createEnrollment('edge-01', 60_000, null);
    const attempts = await Promise.all(
      Array.from({ length: 8 }, (_, i) => stores[i % 2]!.edges.redeemEnrollment(code)),
    );
    expect(attempts.filter((attempt) => attempt.ok)).toHaveLength(1);
    expect(attempts.filter((attempt) => !attempt.ok).map((attempt) => !attempt.ok && attempt.code)).toEqual(
      Array(7).fill('code_used'),
    );
  });

  it('makes a transaction that locks the edge wait for, then see, the rule another wrote under the lock', async () => {
    const [first, second] = await Promise.all([fx.open(), fx.open()]);
    const { edge } = await first!.edges.createEnrollment('edge-01', 60_000, null);
    let holding!: () => void;
    const held = new Promise<void>((resolve) => {
      holding = resolve;
    });
    let letGo!: () => void;
    const release = new Promise<void>((resolve) => {
      letGo = resolve;
    });
    // Check then insert, as RuleService does: insert only when the edge has no rule yet.
    const push = (name: string, tx: Parameters<Parameters<typeof first.transaction>[0]>[0]) =>
      tx.rules.insert({ edgeId: edge.id, owner: 'a', name, body: {} });
    const a = first!.transaction(async (tx) => {
      await tx.edges.lock(edge.id);
      const seen = (await tx.rules.list({ edgeId: edge.id })).length;
      holding();
      await release;
      if (seen === 0) await push('from-a', tx);
      return seen;
    });
    await held;
    const b = second!.transaction(async (tx) => {
      await tx.edges.lock(edge.id);
      const seen = (await tx.rules.list({ edgeId: edge.id })).length;
      if (seen === 0) await push('from-b', tx);
      return seen;
    });
    // b waits on a's row lock before a writes.
    await pollUntil(
      async () =>
        (await rawQuery(fx.spec, "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock'")).length > 0,
      { timeoutMs: 5000, what: 'the second transaction waiting on the edge lock' },
    );
    letGo();
    expect(await a).toBe(0);
    expect(await b).toBe(1);
    expect((await first!.rules.list()).map((rule) => rule.name)).toEqual(['from-a']);
  });

  it('counts a report folded by two servers at once once', async () => {
    const stores = await Promise.all([fx.open(), fx.open(), fx.open(), fx.open()]);
    const owner = await stores[0]!.users.create('ann', 'user');
    const { edge } = await stores[0]!.edges.createEnrollment('edge-01', 60_000, null);
    const rule = await stores[0]!.rules.insert({ edgeId: edge.id, owner: 'ann', name: 'web', body: {} });
    await stores[0]!.quotas.set(owner.id, edge.id, 1e12, Date.UTC(2026, 0, 1));
    await Promise.all(
      stores.map((store) =>
        store.stats.record(edge.id, 'boot-a', [report(rule.id, 1000)], [{ owner: 'ann', bytes: 1000 }]),
      ),
    );
    expect(await stores[0]!.stats.get(rule.id)).toMatchObject({ bytesIn: 1000 });
    const traffic = await stores[0]!.traffic.query({
      widthMs: 3_600_000,
      from: 0,
      to: Date.now() + 3_600_000,
    });
    expect(traffic.reduce((sum, sample) => sum + sample.bytesIn, 0)).toBe(1000);
    expect((await stores[0]!.quotas.get(owner.id, edge.id))!.usedBytes).toBe(1000);
  });

  it('answers store_unavailable while the database is down, and works again once it is back', async () => {
    const idleErrors: Error[] = [];
    const store = await fx.open({ onIdleError: (error) => idleErrors.push(error) });
    await store.users.create('ann', 'user');
    await fx.cluster.halt();
    try {
      expect(await rejectedCode(store.users.count())).toBe('store_unavailable');
      await expect(store.users.list()).rejects.toThrow(/PostgreSQL 127\.0\.0\.1:\d+\/\w+ is unavailable/);
      expect(await rejectedCode(store.transaction((tx) => tx.users.count()))).toBe('store_unavailable');
    } finally {
      await fx.cluster.resume();
    }
    // The pool's idle connection died with the server; the pool reported it instead of throwing.
    expect(idleErrors.length).toBeGreaterThan(0);
    expect(await store.users.count()).toBe(1);
  });
});
