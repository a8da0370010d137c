// Traffic history as StatsStore.record leaves it: each report's deltas in the 1m and 1h bucket
// of the time it arrived, across boots, never counted twice; queries by rule, edge and owner;
// history that outlives its rule; pruning by retention in bounded batches.

import type { RuleStats } from '@sluice/protocol';
import { ZERO_COUNTERS } from '@sluice/test-kit';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Store, TrafficFilter } from './store.ts';
import { STORE_BACKENDS, useStoreBackend } from './store-backends.fixture.ts';

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** A whole hour, so bucket starts are easy to read. */
const T0 = Date.UTC(2026, 2, 1, 12, 0, 0);

let now: number;
let store: Store;
let edgeId: string;
let otherEdgeId: string;

function report(ruleId: string, bytesIn: number, bytesOut: number): RuleStats {
  return { ...ZERO_COUNTERS, ruleId, bytesIn, bytesOut };
}

async function rule(edge: string, owner: string, name: string): Promise<string> {
  return (await store.rules.insert({ edgeId: edge, owner, name, body: {} })).id;
}

const everything = (widthMs: number, extra: Partial<TrafficFilter> = {}): TrafficFilter => ({
  widthMs,
  from: 0,
  to: T0 + 400 * DAY,
  ...extra,
});

describe.each(STORE_BACKENDS)('traffic history from stats reports on %s', (backend) => {
  const fx = useStoreBackend(backend);

  beforeEach(async () => {
    now = T0;
    store = await fx.open({ now: () => now });
    edgeId = (await store.edges.createEnrollment('edge-01', MINUTE, null)).edge.id;
    otherEdgeId = (await store.edges.createEnrollment('edge-02', MINUTE, null)).edge.id;
  });

  it("puts each report's deltas in the 1m and 1h bucket of its arrival, across a boot change", async () => {
    const r = await rule(edgeId, 'alice', 'web');
    now = T0 + 10_000;
    await store.stats.record(edgeId, 'boot-a', [report(r, 100, 1000)]);
    now = T0 + 50_000; // same minute
    await store.stats.record(edgeId, 'boot-a', [report(r, 250, 1500)]);
    now = T0 + MINUTE + 5_000; // next minute, same hour
    await store.stats.record(edgeId, 'boot-a', [report(r, 300, 1600)]);
    now = T0 + HOUR + 1_000; // next hour; the edge restarted: its counters start again
    await store.stats.record(edgeId, 'boot-b', [report(r, 40, 7)]);

    expect(await store.traffic.query(everything(MINUTE, { ruleId: r }))).toEqual([
      { at: T0, bytesIn: 250, bytesOut: 1500 },
      { at: T0 + MINUTE, bytesIn: 50, bytesOut: 100 },
      { at: T0 + HOUR, bytesIn: 40, bytesOut: 7 },
    ]);
    expect(await store.traffic.query(everything(HOUR, { ruleId: r }))).toEqual([
      { at: T0, bytesIn: 300, bytesOut: 1600 },
      { at: T0 + HOUR, bytesIn: 40, bytesOut: 7 },
    ]);
    // The buckets add up to the rule's totals.
    expect(await store.stats.get(r)).toMatchObject({ bytesIn: 340, bytesOut: 1607 });
  });

  it('counts a cumulative report that comes twice once', async () => {
    const r = await rule(edgeId, 'alice', 'web');
    await store.stats.record(edgeId, 'boot-a', [report(r, 500, 50)]);
    now += 1000;
    await store.stats.record(edgeId, 'boot-a', [report(r, 500, 50)]);
    now += 1000;
    await store.stats.record(edgeId, 'boot-a', [report(r, 500, 50)]);
    expect(await store.traffic.query(everything(MINUTE))).toEqual([{ at: T0, bytesIn: 500, bytesOut: 50 }]);
    expect(await store.traffic.query(everything(HOUR))).toEqual([{ at: T0, bytesIn: 500, bytesOut: 50 }]);
  });

  it('folds a report of more rules than one statement takes, and a rule reported twice in it', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 620; i += 1) ids.push(await rule(edgeId, i % 2 === 0 ? 'alice' : 'bob', `r${i}`));
    const first = await store.stats.record(edgeId, 'boot-a', [
      ...ids.map((id, i) => report(id, i + 1, 1)),
      report(ids[0]!, 100, 1),
    ]);
    expect(first).toHaveLength(621);
    expect(await store.stats.get(ids[619]!)).toMatchObject({ bytesIn: 620, bytesOut: 1 });
    // The same rule twice: the second cumulative value counts on top of the first.
    expect(await store.stats.get(ids[0]!)).toMatchObject({ bytesIn: 100, bytesOut: 1 });
    const sum = 100 + (620 * 621) / 2 - 1;
    expect(await store.traffic.query(everything(MINUTE))).toEqual([{ at: T0, bytesIn: sum, bytesOut: 620 }]);
    expect(await store.traffic.query(everything(HOUR, { ruleId: ids[0]! }))).toEqual([
      { at: T0, bytesIn: 100, bytesOut: 1 },
    ]);
    now += MINUTE;
    await store.stats.record(
      edgeId,
      'boot-a',
      ids.map((id, i) => report(id, i + 2, 1)),
    );
    expect(await store.stats.get(ids[619]!)).toMatchObject({ bytesIn: 621 });
    expect(await store.traffic.query(everything(MINUTE, { owner: 'bob' }))).toEqual([
      { at: T0, bytesIn: 310 * 311, bytesOut: 310 },
      { at: T0 + MINUTE, bytesIn: 310, bytesOut: 0 },
    ]);
  });

  it('drops reports of rules that are not live rules of the reporting edge', async () => {
    const r = await rule(edgeId, 'alice', 'web');
    await store.stats.record(otherEdgeId, 'boot-a', [report(r, 500, 50), report('r_unknown', 9, 9)]);
    expect(await store.traffic.query(everything(MINUTE))).toEqual([]);
  });

  it('sums per bucket by rule, by edge, by owner and over everything; a range is [from, to)', async () => {
    const a1 = await rule(edgeId, 'alice', 'a1');
    const a2 = await rule(otherEdgeId, 'alice', 'a2');
    const b1 = await rule(edgeId, 'bob', 'b1');
    await store.stats.record(edgeId, 'e1', [report(a1, 1, 10), report(b1, 100, 1000)]);
    await store.stats.record(otherEdgeId, 'e2', [report(a2, 2, 20)]);
    now = T0 + MINUTE;
    await store.stats.record(edgeId, 'e1', [report(a1, 5, 50)]);

    expect(await store.traffic.query(everything(MINUTE, { edgeId }))).toEqual([
      { at: T0, bytesIn: 101, bytesOut: 1010 },
      { at: T0 + MINUTE, bytesIn: 4, bytesOut: 40 },
    ]);
    expect(await store.traffic.query(everything(MINUTE, { edgeId, owner: 'alice' }))).toEqual([
      { at: T0, bytesIn: 1, bytesOut: 10 },
      { at: T0 + MINUTE, bytesIn: 4, bytesOut: 40 },
    ]);
    expect(await store.traffic.query(everything(MINUTE, { owner: 'alice' }))).toEqual([
      { at: T0, bytesIn: 3, bytesOut: 30 },
      { at: T0 + MINUTE, bytesIn: 4, bytesOut: 40 },
    ]);
    expect(await store.traffic.query(everything(HOUR))).toEqual([{ at: T0, bytesIn: 107, bytesOut: 1070 }]);
    expect(await store.traffic.query(everything(MINUTE, { ruleId: b1, owner: 'alice' }))).toEqual([]);
    const range = { widthMs: MINUTE, from: T0 + MINUTE, to: T0 + 2 * MINUTE };
    expect(await store.traffic.query(range)).toEqual([{ at: T0 + MINUTE, bytesIn: 4, bytesOut: 40 }]);
    expect(await store.traffic.query({ ...range, from: T0, to: T0 + MINUTE })).toEqual([
      { at: T0, bytesIn: 103, bytesOut: 1030 },
    ]);
  });

  it('answers a range of many slices whole, in order, skipping empty stretches', async () => {
    const r = await rule(edgeId, 'alice', 'web');
    const minutes = [...Array.from({ length: 300 }, (_, i) => i), 5000, 5001];
    let sent = 0;
    for (const minute of minutes) {
      now = T0 + minute * MINUTE;
      sent += minute + 1;
      await store.stats.record(edgeId, 'boot-a', [report(r, sent, 0)]);
    }
    const samples = await store.traffic.query({ widthMs: MINUTE, from: T0 - DAY, to: T0 + 7 * DAY, edgeId });
    expect(samples.map((sample) => (sample.at - T0) / MINUTE)).toEqual(minutes);
    expect(samples.map((sample) => sample.bytesIn)).toEqual(minutes.map((minute) => minute + 1));
    const from = T0 + 250 * MINUTE;
    const tail = await store.traffic.query({ widthMs: MINUTE, from, to: T0 + 5001 * MINUTE });
    expect(tail.map((sample) => (sample.at - T0) / MINUTE)).toEqual([...minutes.slice(250, 300), 5000]);
  });

  it("keeps a removed rule's history under its edge and owner", async () => {
    const r = await rule(edgeId, 'alice', 'web');
    await store.stats.record(edgeId, 'boot-a', [report(r, 7, 8)]);
    await store.rules.tombstone(r);
    await store.rules.delete(r);
    expect(await store.rules.get(r)).toBeNull();
    expect(await store.traffic.ruleRef(r)).toEqual({ edgeId, owner: 'alice' });
    expect(await store.traffic.query(everything(MINUTE, { owner: 'alice' }))).toEqual([
      { at: T0, bytesIn: 7, bytesOut: 8 },
    ]);
    expect(await store.traffic.ruleRef('r_never')).toBeNull();
  });

  it('prunes 1m buckets after 7 days and 1h buckets after 400 days, a bounded batch at a time', async () => {
    const r = await rule(edgeId, 'alice', 'web');
    let sent = 0;
    // One report per hour for 9 days: 216 1m buckets and 216 1h buckets.
    for (let hour = 0; hour < 9 * 24; hour += 1) {
      now = T0 + hour * HOUR;
      sent += 10;
      await store.stats.record(edgeId, 'boot-a', [report(r, sent, 0)]);
    }
    const count = async (widthMs: number) => (await store.traffic.query(everything(widthMs))).length;
    // record() pruned on its way: what is left is the last 7 days of minutes.
    expect(await count(MINUTE)).toBe(7 * 24 + 1);
    expect(await count(HOUR)).toBe(9 * 24);

    now = T0 + 399 * DAY;
    // Bounded: a batch of 100 per width, and what is not expired stays.
    expect(await store.traffic.prune(100)).toBe(100);
    expect(await count(MINUTE)).toBe(69);
    expect(await store.traffic.prune()).toBe(69);
    expect(await count(HOUR)).toBe(9 * 24);
    // A bucket that started exactly 400 days ago is kept; the three before it go.
    now = T0 + 400 * DAY + 3 * HOUR;
    expect(await store.traffic.prune()).toBe(3);
    expect(await count(HOUR)).toBe(9 * 24 - 3);
  });
});
