// A whole-number command-line flag within a range, or its default when not given; anything
// else is a `bad_flag` error that names the flag, the range and what was given.

import { BENCH_ERRORS } from './errors.ts';

export function countFlag(
  flag: string,
  value: string | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw BENCH_ERRORS.error('bad_flag', {
      flag,
      reason: `expected a whole number from ${min} to ${max}, got "${value}"`,
    });
  }
  return n;
}
