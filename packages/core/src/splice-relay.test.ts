import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import { spliceFailure } from './splice-relay.ts';

const result = { bytesIn: 1, bytesOut: 2 };

describe('spliceFailure', () => {
  it('carries the errno of a reset or an error to the reason both relay paths count', () => {
    expect(spliceFailure({ ...result, reason: 'client_reset', errno: constants.errno.ECONNRESET })).toEqual({
      reason: 'client_reset',
      errno: 'ECONNRESET',
    });
    expect(spliceFailure({ ...result, reason: 'upstream_reset', errno: constants.errno.EPIPE })).toEqual({
      reason: 'upstream_reset',
      errno: 'EPIPE',
    });
    expect(spliceFailure({ ...result, reason: 'error', errno: constants.errno.ETIMEDOUT })).toEqual({
      reason: 'error',
      errno: 'ETIMEDOUT',
    });
  });

  it('reports the half-close idle timeout (a reset both ways) as idle_timeout', () => {
    expect(spliceFailure({ ...result, reason: 'idle_timeout', errno: 0 })).toEqual({
      reason: 'idle_timeout',
      errno: 'ETIMEDOUT',
    });
  });

  it('reports clean ends and our own closes as no failure', () => {
    for (const reason of ['eof', 'destroyed'] as const) {
      expect(spliceFailure({ ...result, reason, errno: 0 })).toBeNull();
    }
  });
});
