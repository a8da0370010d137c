import { parseStandaloneConfig, type RuleSpec } from '@sluice/config';
import { Counters, FIELD } from '@sluice/counters';
import { describe, expect, it } from 'vitest';
import { DnsCache } from './dns-cache.ts';
import { RuleTargets } from './rule-targets.ts';

function rule(balance: string, extra = ''): RuleSpec {
  const toml = `
[[rules]]
name = "r"
listen = "127.0.0.1:9000"
targets = ["127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"]
balance = "${balance}"
${extra}
`;
  return parseStandaloneConfig(toml, 'rule-targets.test.toml').rules[0]!;
}

function setup(balance: string) {
  const counters = new Counters(Counters.allocate(1, 1));
  const row = counters.row(0, 0);
  const targets = new RuleTargets(rule(balance), counters, row, new DnsCache(), async () => true);
  return { counters, row, targets };
}

describe('RuleTargets', () => {
  it('orders failover targets healthy first and publishes the down ones for sluice_target_up', () => {
    const { counters, row, targets } = setup('failover');
    expect(targets.order()).toEqual([0, 1, 2]);
    for (let i = 0; i < 3; i++) targets.failed(0);
    expect(targets.order()).toEqual([1, 2, 0]);
    expect(counters.read(row, FIELD.TARGETS_DOWN)).toBe(0b001n);
    targets.succeeded(0);
    targets.succeeded(0);
    expect(targets.order()).toEqual([0, 1, 2]);
    expect(counters.read(row, FIELD.TARGETS_DOWN)).toBe(0n);
  });

  it('rotates round-robin over the healthy targets only', () => {
    const { targets } = setup('round-robin');
    for (let i = 0; i < 3; i++) targets.failed(1);
    expect([targets.order()[0], targets.order()[0], targets.order()[0]]).toEqual([0, 2, 0]);
  });

  it('counts a failover in the rule row', () => {
    const { counters, row, targets } = setup('failover');
    targets.failedOver();
    targets.failedOver();
    expect(counters.read(row, FIELD.FAILOVERS)).toBe(2n);
  });

  it('keeps what it learnt across a change of caps and forgets it with a new target list', () => {
    const { counters, row, targets } = setup('failover');
    for (let i = 0; i < 3; i++) targets.failed(2);
    targets.update(rule('failover', 'connect_timeout_ms = 500'));
    expect(targets.states()).toEqual([true, true, false]);
    const moved = { ...rule('failover'), targets: [...rule('failover').targets].reverse() };
    targets.update(moved);
    expect(targets.states()).toEqual([true, true, true]);
    expect(counters.read(row, FIELD.TARGETS_DOWN)).toBe(0n);
    targets.stop();
  });
});
