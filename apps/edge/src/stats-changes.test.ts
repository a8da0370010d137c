// StatsChanges: which rules a stats report carries.

import type { RuleStats } from '@sluice/protocol';
import { describe, expect, it } from 'vitest';
import { StatsChanges } from './stats-changes.ts';

function stats(ruleId: string, bytesIn: number): RuleStats {
  return {
    ruleId,
    bytesIn,
    bytesOut: 0,
    connectionsTotal: 0,
    activeConnections: 0,
    rejected: 0,
    connectErrors: 0,
  };
}

const ids = (list: RuleStats[]) => list.map((s) => s.ruleId);

describe('StatsChanges', () => {
  it('reports every rule first, then those that moved, and each once more after it stops', () => {
    const changes = new StatsChanges();
    expect(ids(changes.select([stats('a', 0), stats('b', 0)]))).toEqual(['a', 'b']);
    // Unchanged once: sent again, so the server sees a zero delta; then left out.
    expect(ids(changes.select([stats('a', 0), stats('b', 0)]))).toEqual(['a', 'b']);
    expect(ids(changes.select([stats('a', 0), stats('b', 0)]))).toEqual([]);
    expect(ids(changes.select([stats('a', 5), stats('b', 0)]))).toEqual(['a']);
    expect(ids(changes.select([stats('a', 5), stats('b', 0)]))).toEqual(['a']);
    expect(ids(changes.select([stats('a', 5), stats('b', 0)]))).toEqual([]);
  });

  it('reports everything again after a reset (a new session), and a rule that came back', () => {
    const changes = new StatsChanges();
    for (let i = 0; i < 3; i++) changes.select([stats('a', 1), stats('b', 1)]);
    expect(ids(changes.select([stats('b', 1)]))).toEqual([]);
    expect(ids(changes.select([stats('a', 1), stats('b', 1)]))).toEqual(['a']);
    changes.reset();
    expect(ids(changes.select([stats('a', 1), stats('b', 1)]))).toEqual(['a', 'b']);
  });
});
