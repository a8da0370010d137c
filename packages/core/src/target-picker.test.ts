import { describe, expect, it } from 'vitest';
import { TargetPicker } from './target-picker.ts';

describe('TargetPicker', () => {
  it('failover always starts at the first target', () => {
    const picker = new TargetPicker(3, 'failover');
    expect([picker.first(), picker.first(), picker.first()]).toEqual([0, 0, 0]);
  });

  it('round-robin starts one further each time and wraps', () => {
    const picker = new TargetPicker(3, 'round-robin');
    expect([picker.first(), picker.first(), picker.first(), picker.first()]).toEqual([0, 1, 2, 0]);
  });
});
