import { describe, expect, it } from 'vitest';
import { parseListen } from './address.ts';
import { findRuleConflicts, listensOverlap } from './rule-conflicts.ts';

describe('listensOverlap', () => {
  const overlap = (a: string, b: string) => listensOverlap(parseListen(a), parseListen(b));

  it('needs a shared port and a shared address', () => {
    expect(overlap('127.0.0.1:80', '127.0.0.1:80')).toBe(true);
    expect(overlap('127.0.0.1:80-90', '127.0.0.1:90-100')).toBe(true);
    expect(overlap('127.0.0.1:80-89', '127.0.0.1:90-100')).toBe(false);
    expect(overlap('127.0.0.1:80', '127.0.0.2:80')).toBe(false);
  });

  it('treats the wildcard addresses as every address', () => {
    expect(overlap('0.0.0.0:80', '127.0.0.1:80')).toBe(true);
    expect(overlap('10.0.0.1:80', '0.0.0.0:80')).toBe(true);
    expect(overlap('0.0.0.0:80', '[::1]:80')).toBe(false);
    expect(overlap('[::]:80', '127.0.0.1:80')).toBe(true);
    expect(overlap('[::]:80', '[::1]:80')).toBe(true);
  });

  it('compares IPv6 addresses in one spelling', () => {
    expect(overlap('[::1]:80', '[0:0:0:0:0:0:0:1]:80')).toBe(true);
  });
});

describe('findRuleConflicts', () => {
  it('reports a duplicate name at the later rule', () => {
    expect(
      findRuleConflicts([
        { name: 'web', listen: '127.0.0.1:1' },
        { name: 'api', listen: '127.0.0.1:2' },
        { name: 'web', listen: '127.0.0.1:3' },
      ]),
    ).toEqual([{ path: ['rules', 2, 'name'], message: 'rule name "web" is already used by rules[0]' }]);
  });

  it('reports overlapping listens of one protocol, naming both rules', () => {
    expect(
      findRuleConflicts([
        { name: 'a', listen: '0.0.0.0:8000-8100' },
        { name: 'b', listen: '127.0.0.1:8080' },
      ]),
    ).toEqual([
      {
        path: ['rules', 1, 'listen'],
        message:
          '127.0.0.1:8080 of rule "b" (rules[1]) overlaps 0.0.0.0:8000-8100 of rule "a" (rules[0]) for tcp',
      },
    ]);
  });

  it('lets TCP and UDP share a port', () => {
    expect(
      findRuleConflicts([
        { name: 'a', listen: '127.0.0.1:53', protocol: 'udp' },
        { name: 'b', listen: '127.0.0.1:53' },
      ]),
    ).toEqual([]);
  });

  it('skips rules whose keys are unusable; the schema reports those', () => {
    expect(
      findRuleConflicts([
        { name: 'a', listen: '127.0.0.1:99999' },
        { name: 5, listen: '127.0.0.1:99999' },
        'not a table',
        { listen: '127.0.0.1:1', protocol: 'sctp' },
        { listen: '127.0.0.1:1', protocol: 'sctp' },
      ]),
    ).toEqual([]);
    expect(findRuleConflicts(undefined)).toEqual([]);
  });
});
