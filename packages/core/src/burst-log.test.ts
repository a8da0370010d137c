import { afterEach, describe, expect, it, vi } from 'vitest';
import { BurstLog } from './burst-log.ts';

describe('BurstLog', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('logs the first event of a burst at once and the rest as one summary', () => {
    vi.useFakeTimers();
    const lines: [string, Record<string, unknown> | undefined][] = [];
    const burst = new BurstLog((_level, msg, fields) => lines.push([msg, fields]), 1_000);
    for (let i = 0; i < 50; i++) burst.note('emfile', 'warn', 'accept failed', { reason: 'emfile' });
    expect(lines).toEqual([['accept failed', { reason: 'emfile' }]]);
    vi.advanceTimersByTime(1_000);
    expect(lines).toEqual([
      ['accept failed', { reason: 'emfile' }],
      ['accept failed', { reason: 'emfile', repeated: 49 }],
    ]);
    // The window closed: the next event starts a new burst.
    burst.note('emfile', 'warn', 'accept failed', { reason: 'emfile' });
    expect(lines).toHaveLength(3);
  });

  it('keeps bursts of different keys apart and writes no summary for a lone event', () => {
    vi.useFakeTimers();
    const lines: string[] = [];
    const burst = new BurstLog((_level, msg) => lines.push(msg), 1_000);
    burst.note('a', 'warn', 'a happened', {});
    burst.note('b', 'warn', 'b happened', {});
    vi.advanceTimersByTime(1_000);
    expect(lines).toEqual(['a happened', 'b happened']);
  });
});
