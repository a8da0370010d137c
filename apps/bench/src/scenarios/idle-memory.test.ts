import { describe, expect, it } from 'vitest';
import type { RunError } from '../errors.ts';
import { type IdleMeasurement, idleMemoryRows, perConnectionKiB } from './idle-memory.ts';

const measured = (before: number, after: number, connections: number): IdleMeasurement => ({
  pids: [1],
  rssBeforeKiB: before,
  rssAfterKiB: after,
  rssAfterSamplesKiB: [after],
  perConnectionKiB: perConnectionKiB(before, after, connections),
});

describe('perConnectionKiB', () => {
  it('divides the growth by the connection count', () => {
    expect(perConnectionKiB(16_000, 30_000, 4000)).toBe(3.5);
    expect(perConnectionKiB(100, 90, 10)).toBe(-1);
  });

  it('refuses a count that is not positive', () => {
    expect(() => perConnectionKiB(1, 2, 0)).toThrow(RangeError);
  });
});

describe('idleMemoryRows', () => {
  const contenders = [
    { id: 'naive-pipe', label: 'naive pipe' },
    { id: 'sluice-js-1', label: 'sluice JS, 1 shard' },
    { id: 'haproxy', label: 'HAProxy' },
  ];

  it('gives each cost as a ratio to HAProxy', () => {
    const rows = idleMemoryRows(
      contenders,
      new Map([
        ['haproxy', measured(16_000, 30_000, 4000)],
        ['naive-pipe', measured(70_000, 126_000, 4000)],
      ]),
    );
    expect(rows.map((r) => [r.contender, r.perConnectionKiB, r.vsHaproxy])).toEqual([
      ['naive-pipe', 14, 4],
      ['haproxy', 3.5, 1],
    ]);
  });

  it('keeps a failed contender as a row with its error and no ratio without HAProxy', () => {
    const rows = idleMemoryRows(
      contenders,
      new Map<string, IdleMeasurement | RunError>([
        ['sluice-js-1', { code: 'contender_start_failed', message: 'sluice-js-1 did not start: x' }],
        ['naive-pipe', measured(0, 4000, 1000)],
      ]),
    );
    expect(rows[0]?.vsHaproxy).toBeNull();
    expect(rows[1]).toMatchObject({
      contender: 'sluice-js-1',
      perConnectionKiB: null,
      error: { code: 'contender_start_failed' },
    });
  });
});
