import { describe, expect, it } from 'vitest';
import { countFlag } from './count-flag.ts';

describe('countFlag', () => {
  it('answers the default when the flag is not given, and the number when it is within the range', () => {
    expect(countFlag('--n', undefined, 7, 1, 10)).toBe(7);
    expect(countFlag('--n', '1', 7, 1, 10)).toBe(1);
    expect(countFlag('--n', '10', 7, 1, 10)).toBe(10);
    expect(countFlag('--n', ' 5 ', 7, 1, 10)).toBe(5);
  });

  it.each(['0', '11', '', ' ', '2.5', '-1', '1e1', '0x5', 'five', '9007199254740993'])(
    'refuses "%s", naming the flag, the range and what was given',
    (value) => {
      const max = value === '9007199254740993' ? Number.MAX_SAFE_INTEGER : 10;
      expect(() => countFlag('--n', value, 7, 1, max)).toThrow(
        `--n: expected a whole number from 1 to ${max}, got "${value}"`,
      );
    },
  );
});
