import { describe, expect, it } from 'vitest';
import { pollUntil, withTimeout } from './poll.ts';

describe('pollUntil', () => {
  it('answers the first value that is not undefined or false, retrying throws', async () => {
    let calls = 0;
    const value = await pollUntil(
      () => {
        calls += 1;
        if (calls === 1) throw new Error('not yet');
        return calls === 2 ? false : calls;
      },
      { timeoutMs: 5_000, intervalMs: 1, what: 'the third call' },
    );
    expect(value).toBe(3);
  });

  it('names what it waited for and the last error at the deadline', async () => {
    const waiting = pollUntil(
      () => {
        throw new Error('still down');
      },
      { timeoutMs: 20, intervalMs: 5, what: 'the target' },
    );
    await expect(waiting).rejects.toThrow(/waiting for the target \(last: still down\)/);
  });
});

describe('withTimeout', () => {
  it('passes a settled promise through and rejects one that never settles', async () => {
    expect(await withTimeout(Promise.resolve(7), 1_000, 'seven')).toBe(7);
    await expect(withTimeout(new Promise(() => {}), 10, 'nothing')).rejects.toThrow(
      'timed out after 10 ms waiting for nothing',
    );
  });
});
