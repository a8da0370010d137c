// Quotas on both backends, on an injected clock: usage folded from the edges' owner reports by delta
// (same boot, new boot, a report seen twice), exhaustion, periods that roll over, set and clear,
// and the budgets pushed to an edge in its own counter's terms.

import { beforeEach, describe, expect, it } from 'vitest';
import type { Store } from './store.ts';
import { STORE_BACKENDS, useStoreBackend } from './store-backends.fixture.ts';

const MiB = 2 ** 20;
const T0 = Date.UTC(2026, 2, 15, 12, 0, 0);
const ANCHOR = Date.UTC(2026, 0, 1);

let now: number;
let store: Store;
let edgeId: string;
let ann: string;

const usage = (bootId: string, bytes: number) =>
  store.stats.record(edgeId, bootId, [], [{ owner: 'ann', bytes }]);

describe.each(STORE_BACKENDS)('quotas on %s', (backend) => {
  const fx = useStoreBackend(backend);

  beforeEach(async () => {
    now = T0;
    store = await fx.open({ now: () => now });
    edgeId = (await store.edges.createEnrollment('edge-01', 60_000, null)).edge.id;
    ann = (await store.users.create('ann', 'user')).id;
  });

  it('count the delta of each owner report: within a boot, across a new boot, a repeat counts nothing', async () => {
    await usage('boot-a', 5 * MiB); // before the quota exists: not counted
    const set = await store.quotas.set(ann, edgeId, 64 * MiB, ANCHOR);
    expect(set).toMatchObject({
      userName: 'ann',
      edgeName: 'edge-01',
      usedBytes: 0,
      periodStart: Date.UTC(2026, 2, 1),
      periodEnd: Date.UTC(2026, 3, 1),
      exhaustedAt: null,
    });
    await usage('boot-a', 8 * MiB);
    await usage('boot-a', 8 * MiB);
    expect((await store.quotas.get(ann, edgeId))!.usedBytes).toBe(3 * MiB);
    await usage('boot-b', 2 * MiB);
    expect((await store.quotas.get(ann, edgeId))!.usedBytes).toBe(5 * MiB);
    // Another owner's bytes and another edge's quota are not ann's.
    await store.stats.record(edgeId, 'boot-b', [], [{ owner: 'bob', bytes: 9 * MiB }]);
    expect((await store.quotas.get(ann, edgeId))!.usedBytes).toBe(5 * MiB);
  });

  it('marks exhaustion once, and keeps its time while the usage grows', async () => {
    await store.quotas.set(ann, edgeId, 10 * MiB, ANCHOR);
    now = T0 + 1000;
    await usage('boot-a', 10 * MiB);
    expect((await store.quotas.get(ann, edgeId))!.exhaustedAt).toBe(T0 + 1000);
    now = T0 + 2000;
    await usage('boot-a', 11 * MiB);
    const quota = (await store.quotas.get(ann, edgeId))!;
    expect(quota).toMatchObject({ usedBytes: 11 * MiB, exhaustedAt: T0 + 1000 });
    // Raised above the usage: no longer exhausted, the usage kept.
    expect(await store.quotas.set(ann, edgeId, 20 * MiB, ANCHOR)).toMatchObject({
      usedBytes: 11 * MiB,
      exhaustedAt: null,
    });
    expect(await store.quotas.clear(ann, edgeId)).toMatchObject({ usedBytes: 0, exhaustedAt: null });
  });

  it('start a new period with nothing used once the period ends, and roll over only those due', async () => {
    await store.quotas.set(ann, edgeId, 10 * MiB, ANCHOR);
    await usage('boot-a', 10 * MiB);
    expect(await store.quotas.rollOver()).toEqual([]);
    now = Date.UTC(2026, 3, 1) - 1;
    expect(await store.quotas.rollOver()).toEqual([]);
    now = Date.UTC(2026, 3, 1);
    // Read before the roll: the ended period already counts nothing in the next.
    expect(await store.quotas.get(ann, edgeId)).toMatchObject({ usedBytes: 0, exhaustedAt: null });
    const rolled = await store.quotas.rollOver();
    expect(rolled).toHaveLength(1);
    expect(rolled[0]).toMatchObject({
      periodStart: Date.UTC(2026, 3, 1),
      periodEnd: Date.UTC(2026, 4, 1),
      usedBytes: 0,
    });
    expect(await store.quotas.rollOver()).toEqual([]);
    // Bytes reported in the new period count in it.
    await usage('boot-a', 12 * MiB);
    expect((await store.quotas.get(ann, edgeId))!.usedBytes).toBe(2 * MiB);
  });

  it('keep the usage when a new anchor leaves the current period as it was, and not otherwise', async () => {
    await store.quotas.set(ann, edgeId, 10 * MiB, ANCHOR);
    await usage('boot-a', 3 * MiB);
    expect((await store.quotas.set(ann, edgeId, 10 * MiB, Date.UTC(2025, 11, 1))).usedBytes).toBe(3 * MiB);
    const moved = await store.quotas.set(ann, edgeId, 10 * MiB, Date.UTC(2026, 0, 10));
    expect(moved).toMatchObject({ usedBytes: 0, periodStart: Date.UTC(2026, 2, 10) });
  });

  it("budget each owner in the edge's own counter: what it reported this boot plus what is left", async () => {
    await store.quotas.set(ann, edgeId, 10 * MiB, ANCHOR);
    await usage('boot-a', 4 * MiB);
    // The session under boot-a: stop at 4 MiB (reported) + 6 MiB (left).
    expect(await store.quotas.budgets(edgeId, 'boot-a')).toEqual({ ann: { stopAt: 10 * MiB } });
    // A new boot counts from zero: 6 MiB left.
    expect(await store.quotas.budgets(edgeId, 'boot-b')).toEqual({ ann: { stopAt: 6 * MiB } });
    await usage('boot-a', 12 * MiB);
    expect(await store.quotas.budgets(edgeId, 'boot-a')).toEqual({ ann: { stopAt: 12 * MiB } });
    expect(await store.quotas.delete(ann, edgeId)).toBe(true);
    expect(await store.quotas.budgets(edgeId, 'boot-a')).toEqual({});
    expect(await store.quotas.delete(ann, edgeId)).toBe(false);
  });

  it('go with the user', async () => {
    await store.quotas.set(ann, edgeId, 10 * MiB, ANCHOR);
    await store.users.delete(ann);
    expect(await store.quotas.list({})).toEqual([]);
  });
});
