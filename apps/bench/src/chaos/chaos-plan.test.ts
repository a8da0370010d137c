import { seededRandom } from '@sluice/test-kit';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CHAOS, killOrder, victims } from './chaos-plan.ts';

describe('killOrder', () => {
  it('kills every victim once per round, in an order the seed decides', () => {
    const next = killOrder(DEFAULT_CHAOS, seededRandom(7));
    const rounds = Array.from({ length: 5 }, () => Array.from({ length: 4 }, next));
    for (const round of rounds) expect([...round].sort()).toEqual(['edge', 'postgres', 'server', 'shard']);
    expect(new Set(rounds.map((r) => r.join()))).not.toEqual(new Set([rounds[0]!.join()]));
    const again = killOrder(DEFAULT_CHAOS, seededRandom(7));
    expect(Array.from({ length: 20 }, again)).toEqual(rounds.flat());
  });

  it('leaves PostgreSQL out when the server runs on SQLite', () => {
    const plan = { ...DEFAULT_CHAOS, store: 'sqlite' as const };
    expect(victims(plan)).toEqual(['shard', 'edge', 'server']);
    const next = killOrder(plan, seededRandom(1));
    expect(Array.from({ length: 30 }, next)).not.toContain('postgres');
  });
});
