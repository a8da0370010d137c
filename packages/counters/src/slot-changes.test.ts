import { describe, expect, it } from 'vitest';
import { Counters } from './counters.ts';
import { FIELD, STRIDE } from './counters-layout.ts';
import { SlotChanges } from './slot-changes.ts';

function setup(): { counters: Counters; changes: SlotChanges } {
  const counters = new Counters(Counters.allocate(2, 4));
  return { counters, changes: new SlotChanges(counters) };
}

describe('SlotChanges', () => {
  it('sees a slot move once per change, on any shard, and no other slot with it', () => {
    const { counters, changes } = setup();
    expect([0, 1, 2, 3].map((slot) => changes.moved(slot))).toEqual([false, false, false, false]);
    counters.add(counters.row(1, 1), FIELD.BYTES_IN, 10);
    expect(changes.moved(0)).toBe(false);
    expect(changes.moved(2)).toBe(false);
    expect(changes.moved(1)).toBe(true);
    expect(changes.moved(1)).toBe(false);
    counters.add(counters.row(1, 0), FIELD.TOTAL, 1);
    expect(changes.moved(1)).toBe(true);
    expect(changes.moved(1)).toBe(false);
  });

  it('compares every word of the row, both halves of each', () => {
    const { counters, changes } = setup();
    // The row's first and last words, and a change only in a high half.
    counters.add(counters.row(2, 0), 0, 1);
    expect(changes.moved(2)).toBe(true);
    counters.add(counters.row(2, 1), STRIDE - 1, 1);
    expect(changes.moved(2)).toBe(true);
    counters.add(counters.row(3, 1), STRIDE - 1, 2 ** 32);
    expect(changes.moved(3)).toBe(true);
    expect(changes.moved(3)).toBe(false);
    // The next slot's first word is not this slot's.
    counters.add(counters.row(3, 0), 0, 1);
    expect(changes.moved(2)).toBe(false);
    expect(changes.moved(3)).toBe(true);
  });
});
