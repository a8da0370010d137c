import type { Rule } from '@sluice/api';
import { describe, expect, it } from 'vitest';
import { filterRules, NO_FILTER } from './rule-filter.ts';

function rule(id: string, over: Partial<Rule> & { table?: Record<string, unknown> } = {}): Rule {
  return {
    id,
    edge: { id: 'e_1', name: 'edge-1' },
    owner: 'alice',
    name: `rule-${id}`,
    revision: 1,
    state: 'active',
    reason: null,
    message: null,
    rule: over.table ?? { name: `rule-${id}`, listen: `127.0.0.1:${id}`, targets: ['10.0.0.1:80'] },
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...over,
  };
}

const RULES = [
  rule('1'),
  rule('2', { owner: 'bob', state: 'failed' }),
  rule('3', {
    edge: { id: 'e_2', name: 'edge-2' },
    table: { name: 'dns', listen: '0.0.0.0:53', protocol: 'udp' },
  }),
];

describe('filterRules', () => {
  it('keeps everything with no filter', () => {
    expect(filterRules(RULES, NO_FILTER)).toHaveLength(3);
  });

  it('filters by edge, owner, state and protocol (tcp by default)', () => {
    const ids = (filter: Partial<typeof NO_FILTER>) =>
      filterRules(RULES, { ...NO_FILTER, ...filter }).map((r) => r.id);
    expect(ids({ edge: 'e_2' })).toEqual(['3']);
    expect(ids({ owner: 'bob' })).toEqual(['2']);
    expect(ids({ state: 'active' })).toEqual(['1', '3']);
    expect(ids({ protocol: 'tcp' })).toEqual(['1', '2']);
    expect(ids({ protocol: 'udp', owner: 'bob' })).toEqual([]);
  });

  it('searches name, id, listen and targets, ignoring case', () => {
    const ids = (search: string) => filterRules(RULES, { ...NO_FILTER, search }).map((r) => r.id);
    expect(ids('RULE-2')).toEqual(['2']);
    expect(ids(':53')).toEqual(['3']);
    expect(ids('10.0.0.1')).toEqual(['1', '2']);
  });
});
