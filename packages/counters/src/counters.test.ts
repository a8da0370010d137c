import { describe, expect, it } from 'vitest';
import {
  ACCEPT_ERROR_REASONS,
  CONNECT_ERROR_REASONS,
  REJECT_REASONS,
  RELAY_ERROR_REASONS,
} from './counter-reasons.ts';
import { Counters } from './counters.ts';
import {
  acceptErrorField,
  connectErrorField,
  countersByteLength,
  FIELD,
  rejectField,
  relayErrorField,
  STRIDE,
} from './counters-layout.ts';

describe('counters layout', () => {
  it('keeps every reason inside its row', () => {
    const fields = [
      ...Object.values(FIELD),
      ...CONNECT_ERROR_REASONS.map(connectErrorField),
      ...REJECT_REASONS.map(rejectField),
      ...ACCEPT_ERROR_REASONS.map(acceptErrorField),
      ...RELAY_ERROR_REASONS.map(relayErrorField),
    ];
    expect(Math.max(...fields)).toBeLessThan(STRIDE);
    // connect-error words must not run into the reject words
    expect(connectErrorField('other')).toBeLessThan(FIELD.REJECTED);
    expect(new Set(CONNECT_ERROR_REASONS.map(connectErrorField)).size).toBe(CONNECT_ERROR_REASONS.length);
  });

  it('gives every counter a word of its own', () => {
    // A block's first reason shares its word with the block's FIELD entry; nothing else may.
    const scalars = Object.entries(FIELD)
      .filter(([name]) => !['CONNECT_ERRORS', 'REJECTED', 'ACCEPT_ERRORS', 'RELAY_ERRORS'].includes(name))
      .map(([, word]) => word);
    const words = [
      ...scalars,
      ...CONNECT_ERROR_REASONS.map(connectErrorField),
      ...REJECT_REASONS.map(rejectField),
      ...ACCEPT_ERROR_REASONS.map(acceptErrorField),
      ...RELAY_ERROR_REASONS.map(relayErrorField),
    ];
    expect(new Set(words).size).toBe(words.length);
  });

  it('sums one field over the shards of a slot and nothing else', () => {
    const counters = new Counters(Counters.allocate(3, 8));
    counters.add(counters.row(2, 0), FIELD.BYTES_IN, 10);
    counters.add(counters.row(2, 2), FIELD.BYTES_IN, 5);
    counters.add(counters.row(3, 1), FIELD.BYTES_IN, 1000);
    counters.add(counters.row(2, 1), FIELD.BYTES_OUT, 7);
    expect(counters.sum(2, FIELD.BYTES_IN)).toBe(15n);
    expect(counters.sum(2, FIELD.BYTES_OUT)).toBe(7n);
    expect(counters.sum(3, FIELD.BYTES_IN)).toBe(1000n);
  });

  it('clears a slot for reuse and a dead shard gauges only', () => {
    const counters = new Counters(Counters.allocate(2, 4));
    counters.add(counters.row(1, 0), FIELD.ACTIVE, 3);
    counters.add(counters.row(1, 0), FIELD.TOTAL, 9);
    counters.add(counters.row(1, 1), FIELD.ACTIVE, 2);
    counters.clearShardGauges(0);
    expect(counters.sum(1, FIELD.ACTIVE)).toBe(2n);
    expect(counters.sum(1, FIELD.TOTAL)).toBe(9n);
    counters.clearSlot(1);
    expect(counters.sum(1, FIELD.ACTIVE)).toBe(0n);
    expect(counters.sum(1, FIELD.TOTAL)).toBe(0n);
  });

  it('refuses a buffer of another layout', () => {
    const buffer = new SharedArrayBuffer(countersByteLength(1, 1));
    expect(() => new Counters(buffer)).toThrow(/layout/);
  });
});
