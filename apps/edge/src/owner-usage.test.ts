import type { RuleStats } from '@sluice/protocol';
import { describe, expect, it } from 'vitest';
import { OwnerUsage } from './owner-usage.ts';

const stats = (ruleId: string, bytesIn: number, bytesOut: number): RuleStats => ({
  ruleId,
  bytesIn,
  bytesOut,
  connectionsTotal: 0,
  activeConnections: 0,
  rejected: 0,
  connectErrors: 0,
});

describe('OwnerUsage', () => {
  it("adds each rule's bytes in + out since it was last looked at to its owner's usage", () => {
    const owners: Record<string, string> = { r1: 'ann', r2: 'ann', r3: 'bob' };
    const usage = new OwnerUsage();
    usage.observe([stats('r1', 100, 50), stats('r2', 10, 0), stats('r3', 7, 3)], (id) => owners[id]);
    expect(usage.of('ann')).toBe(160);
    expect(usage.of('bob')).toBe(10);
    usage.observe([stats('r1', 200, 50), stats('r2', 10, 0)], (id) => owners[id]);
    expect(usage.of('ann')).toBe(260);
    expect(usage.report()).toEqual([
      { owner: 'ann', bytes: 260 },
      { owner: 'bob', bytes: 10 },
    ]);
  });

  it('counts a rule that moved to another owner to the new owner from then on', () => {
    const usage = new OwnerUsage();
    usage.observe([stats('r1', 100, 0)], () => 'ann');
    usage.observe([stats('r1', 150, 0)], () => 'bob');
    expect(usage.of('ann')).toBe(100);
    expect(usage.of('bob')).toBe(50);
  });

  it('never counts down, and skips a rule whose owner is not known', () => {
    const usage = new OwnerUsage();
    usage.observe([stats('r1', 100, 0)], () => 'ann');
    usage.observe([stats('r1', 90, 0)], () => 'ann');
    usage.observe([stats('r9', 500, 0)], () => undefined);
    expect(usage.of('ann')).toBe(100);
    expect(usage.report()).toEqual([{ owner: 'ann', bytes: 100 }]);
  });

  it('goes on from a saved state as if it had never stopped', () => {
    const first = new OwnerUsage();
    first.observe([stats('r1', 100, 20)], () => 'ann');
    const restored = new OwnerUsage(first.state());
    restored.observe([stats('r1', 130, 20)], () => 'ann');
    expect(restored.of('ann')).toBe(150);
  });
});
