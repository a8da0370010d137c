import type { RuleSpec } from '@sluice/config';
import { describe, expect, it } from 'vitest';
import { CORE_ERRORS } from './errors.ts';
import { RuleRecord } from './rule-record.ts';

const spec = { name: 'web' } as RuleSpec;

describe('RuleRecord', () => {
  it('goes pending -> active -> draining -> removed', () => {
    const rule = new RuleRecord(spec);
    rule.to('active');
    rule.to('draining');
    rule.to('removed');
    expect(rule.state).toBe('removed');
  });

  it('keeps the reason of a failure', () => {
    const rule = new RuleRecord(spec);
    rule.to('failed', CORE_ERRORS.data('port_in_use', { listen: '127.0.0.1:80' }));
    expect(rule.error?.code).toBe('port_in_use');
    expect(rule.error?.message).toBe('address 127.0.0.1:80 is already in use by another socket');
  });

  it('refuses transitions the machine does not have', () => {
    const rule = new RuleRecord(spec);
    expect(() => rule.to('draining')).toThrow(/pending -> draining/);
    rule.to('failed');
    expect(() => rule.to('active')).toThrow(/failed -> active/);
  });
});
