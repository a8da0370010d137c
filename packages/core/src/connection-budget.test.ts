import { describe, expect, it } from 'vitest';
import { BUDGET_WORD, ConnectionBudget } from './connection-budget.ts';

describe('ConnectionBudget', () => {
  it('takes places up to the limit, counts the refusals, and frees a place given back', () => {
    const budget = new ConnectionBudget(ConnectionBudget.allocate(2));
    budget.limit = 2;
    expect(budget.take(0)).toBe(true);
    expect(budget.take(1)).toBe(true);
    expect(budget.take(0)).toBe(false);
    expect(budget.take(1)).toBe(false);
    expect([budget.open, budget.reached]).toEqual([2, 2]);
    budget.give(1);
    expect(budget.take(0)).toBe(true);
    expect(Atomics.load(budget.words, BUDGET_WORD.SHARD_OPEN)).toBe(2);
    expect(Atomics.load(budget.words, BUDGET_WORD.SHARD_OPEN + 1)).toBe(0);
  });

  it('counts without refusing when there is no limit', () => {
    const budget = new ConnectionBudget(ConnectionBudget.allocate(1));
    for (let i = 0; i < 5; i++) expect(budget.take(0)).toBe(true);
    expect([budget.open, budget.reached]).toEqual([5, 0]);
  });

  it('forgets what a dead shard held, and only that', () => {
    const budget = new ConnectionBudget(ConnectionBudget.allocate(2));
    budget.limit = 3;
    budget.take(0);
    budget.take(1);
    budget.take(1);
    budget.forgetShard(1);
    expect(budget.open).toBe(1);
    expect(budget.take(0) && budget.take(0)).toBe(true);
    expect(budget.take(0)).toBe(false);
  });

  it('gives the addon the words of its own shard', () => {
    const budget = new ConnectionBudget(ConnectionBudget.allocate(3));
    expect(budget.offsets(2)).toEqual({
      limit: BUDGET_WORD.LIMIT,
      open: BUDGET_WORD.OPEN,
      reached: BUDGET_WORD.REACHED,
      mine: BUDGET_WORD.SHARD_OPEN + 2,
    });
  });

  it('refuses a buffer of another layout', () => {
    expect(() => new ConnectionBudget(new SharedArrayBuffer(64))).toThrow(/layout 0, expected 1/);
  });
});
