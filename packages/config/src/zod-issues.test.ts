import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { describeValue, formatPath, typeMismatch, validate } from './zod-issues.ts';

describe('formatPath', () => {
  it('writes TOML key paths', () => {
    expect(formatPath(['rules', 1, 'listen'])).toBe('rules[1].listen');
    expect(formatPath(['owners', 'team-a', 'limits', 'max_connections'])).toBe(
      'owners.team-a.limits.max_connections',
    );
    expect(formatPath(['rules', 0, 'sni', '*.example.org'])).toBe('rules[0].sni."*.example.org"');
    expect(formatPath(['rules', 0, 'targets', 2])).toBe('rules[0].targets[2]');
    expect(formatPath([])).toBe('');
  });
});

describe('describeValue', () => {
  it('names TOML types', () => {
    expect(describeValue('x')).toBe('a string ("x")');
    expect(describeValue(5)).toBe('an integer (5)');
    expect(describeValue(1.5)).toBe('a float (1.5)');
    expect(describeValue(Number.POSITIVE_INFINITY)).toBe('a float (inf)');
    expect(describeValue(Number.NaN)).toBe('a float (nan)');
    expect(describeValue(true)).toBe('a boolean (true)');
    expect(describeValue([1])).toBe('an array');
    expect(describeValue({ a: 1 })).toBe('a table');
    expect(describeValue(new Date('1979-05-27T07:32:00Z'))).toBe('a date-time (1979-05-27T07:32:00.000Z)');
    expect(describeValue('x'.repeat(100))).toContain('…');
  });

  it('says a required key is missing rather than found nothing', () => {
    expect(typeMismatch('a string', undefined)).toBe('required key is missing');
  });
});

describe('validate', () => {
  it('phrases issues with TOML paths under a prefix and one issue per unknown key', () => {
    const schema = z.object({ port: z.int().min(1), name: z.string() }).strict();
    const result = validate(schema, { port: 0, nme: 'x', extra: true }, ['rules', 3]);
    expect(result).toEqual({
      ok: false,
      issues: [
        { path: 'rules[3].port', message: 'must be at least 1, found 0' },
        { path: 'rules[3].name', message: 'required key is missing' },
        { path: 'rules[3].nme', message: 'unknown key "nme"; did you mean "name"?' },
        { path: 'rules[3].extra', message: 'unknown key "extra"' },
      ],
    });
  });

  it('returns the parsed value', () => {
    expect(validate(z.int(), 5)).toEqual({ ok: true, value: 5 });
  });
});
