import { describe, expect, it } from 'vitest';
import { relayedConnectionCap } from '../fd-budget.ts';
import { type IdleRun, idleCounts, idleMemoryRows, perConnectionKiB } from './idle-memory.ts';

/** A run with readings at the given counts: PSS grows by `kib` per connection from `before`. */
function run(repeat: number, before: number, perConnection: Record<number, number>): IdleRun {
  return {
    repeat,
    pids: [1],
    pssBeforeKiB: before,
    rssBeforeKiB: before + 1000,
    readings: Object.entries(perConnection).map(([count, kib]) => {
      const connections = Number(count);
      const after = before + kib * connections;
      return {
        connections,
        pssKiB: after,
        rssKiB: after + 1000,
        samplesKiB: [after],
        perConnectionKiB: perConnectionKiB(before, after, connections),
        perConnectionRssKiB: perConnectionKiB(before + 1000, after + 1000, connections),
      };
    }),
    error: null,
  };
}

describe('perConnectionKiB', () => {
  it('divides the growth by the connection count', () => {
    expect(perConnectionKiB(16_000, 30_000, 4000)).toBe(3.5);
    expect(perConnectionKiB(100, 90, 10)).toBe(-1);
  });

  it('refuses a count that is not positive', () => {
    expect(() => perConnectionKiB(1, 2, 0)).toThrow(RangeError);
  });
});

describe('idleCounts', () => {
  const limit = { soft: 20_000, hard: 20_000 };
  const cap = relayedConnectionCap(limit.soft);

  it('caps a count that does not fit in the descriptor limit, and says why', () => {
    expect(cap).toBe(9850);
    const counts = idleCounts([10_000, 1000, 4000, 1000], cap, limit);
    expect(counts.map((c) => [c.requested, c.connections])).toEqual([
      [1000, 1000],
      [4000, 4000],
      [10_000, 9850],
    ]);
    expect(counts[0]?.capped).toBeNull();
    expect(counts[2]?.capped).toBe(
      '10000 does not fit: the relays inherit ulimit -n 20000 (hard 20000, not raisable here) and hold 2 descriptors per connection, so 9850 were opened',
    );
  });

  it('keeps a count below the cap whole', () => {
    expect(idleCounts([500], relayedConnectionCap(1024), { soft: 1024, hard: 4096 })).toEqual([
      { requested: 500, connections: 362, capped: expect.stringContaining('so 362 were opened') },
    ]);
  });
});

describe('idleMemoryRows', () => {
  const contenders = [
    { id: 'naive-pipe', label: 'naive pipe' },
    { id: 'sluice-js-1', label: 'sluice JS, 1 shard' },
    { id: 'haproxy', label: 'HAProxy' },
  ];

  it('gives the median over repeats at one count, as a ratio to HAProxy', () => {
    const runs = new Map<string, IdleRun[]>([
      ['haproxy', [run(1, 16_000, { 1000: 3, 4000: 3.5 }), run(2, 16_000, { 1000: 3, 4000: 4.5 })]],
      ['naive-pipe', [run(1, 70_000, { 1000: 15, 4000: 14 }), run(2, 70_000, { 1000: 15, 4000: 18 })]],
    ]);
    const rows = idleMemoryRows(contenders, runs, 4000);
    expect(rows.map((r) => [r.contender, r.perConnectionKiB, r.vsHaproxy])).toEqual([
      ['naive-pipe', 16, 4],
      ['haproxy', 4, 1],
    ]);
    expect(rows[1]?.summary).toEqual({ n: 2, median: 4, min: 3.5, max: 4.5 });
    expect(idleMemoryRows(contenders, runs, 1000).map((r) => r.perConnectionKiB)).toEqual([15, 3]);
  });

  it('keeps a failed contender as a row with its error, and no ratio without HAProxy', () => {
    const failed: IdleRun = {
      repeat: 1,
      pids: [],
      pssBeforeKiB: null,
      rssBeforeKiB: null,
      readings: [],
      error: { code: 'contender_start_failed', message: 'sluice-js-1 did not start: x' },
    };
    const rows = idleMemoryRows(
      contenders,
      new Map([
        ['sluice-js-1', [failed]],
        ['naive-pipe', [run(1, 0, { 1000: 4 })]],
      ]),
      1000,
    );
    expect(rows[0]?.vsHaproxy).toBeNull();
    expect(rows[1]).toMatchObject({
      contender: 'sluice-js-1',
      perConnectionKiB: null,
      error: { code: 'contender_start_failed' },
    });
  });
});
