import { describe, expect, it } from 'vitest';
import { FailureThrottle, type ThrottlePolicy } from './failure-throttle.ts';

const POLICY: ThrottlePolicy = { windowMs: 1000, freeFailures: 3, firstLockoutMs: 100, maxLockoutMs: 250 };

describe('FailureThrottle', () => {
  it('locks a key out at the free failures, doubling up to the longest lockout; other keys are free', () => {
    let now = 0;
    const throttle = new FailureThrottle(POLICY, () => now);
    throttle.failed('a');
    throttle.failed('a');
    expect(throttle.retryAfterMs('a')).toBe(0);
    throttle.failed('a');
    expect(throttle.retryAfterMs('a')).toBe(100);
    expect(throttle.retryAfterMs('b')).toBe(0);
    now += 100;
    expect(throttle.retryAfterMs('a')).toBe(0);
    throttle.failed('a');
    expect(throttle.retryAfterMs('a')).toBe(200);
    now += 200;
    throttle.failed('a');
    expect(throttle.retryAfterMs('a')).toBe(250);
    throttle.succeeded('a');
    expect(throttle.retryAfterMs('a')).toBe(0);
  });

  it('forgets failures that left the window', () => {
    let now = 0;
    const throttle = new FailureThrottle(POLICY, () => now);
    throttle.failed('a');
    throttle.failed('a');
    now += 1000;
    throttle.failed('a');
    expect(throttle.retryAfterMs('a')).toBe(0);
  });

  it('drops keys whose failures are old and whose lockout is over, so one-off failures do not pile up', () => {
    let now = 0;
    const throttle = new FailureThrottle(POLICY, () => now);
    for (let i = 0; i < 1000; i++) throttle.failed(`old-${i}`);
    now += 1000;
    for (let i = 0; i < 3; i++) throttle.failed('locked');
    const lockedFor = throttle.retryAfterMs('locked');
    expect(lockedFor).toBeGreaterThan(0);
    for (let i = 0; i < 1024; i++) throttle.failed(`new-${i}`);
    // The sweep ran: the old one-offs are gone, the new ones and the locked key are kept.
    expect(throttle.size).toBe(1 + 1024);
    expect(throttle.retryAfterMs('locked')).toBe(lockedFor);
  });
});
