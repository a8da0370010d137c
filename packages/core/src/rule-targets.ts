// A rule's targets as one shard tries them, TCP and UDP alike: the order a new connection or
// flow walks (failover or round-robin over healthy targets, down ones last), the passive health
// its attempts feed, the optional active probe of down targets, and the counter words the
// supervisor reads (TARGETS_DOWN bits for sluice_target_up, FAILOVERS).

import type { RuleSpec, TargetSpec } from '@sluice/config';
import { type Counters, FIELD } from '@sluice/counters';
import type { DnsCache } from './dns-cache.ts';
import { targetPort } from './port-map.ts';
import { TargetHealth } from './target-health.ts';
import type { AddressProbe } from './target-probe.ts';

export class RuleTargets {
  private rule: RuleSpec;
  /** Per rule and shard: passive health from this shard's attempts, and the optional probe. */
  private health: TargetHealth;
  private readonly counters: Counters;
  private readonly row: number;
  private readonly dns: DnsCache;
  private readonly probeAddress: AddressProbe;

  constructor(rule: RuleSpec, counters: Counters, row: number, dns: DnsCache, probe: AddressProbe) {
    this.rule = rule;
    this.counters = counters;
    this.row = row;
    this.dns = dns;
    this.probeAddress = probe;
    this.health = this.newHealth();
  }

  get list(): readonly TargetSpec[] {
    return this.rule.targets;
  }

  /** The target indices one new connection or flow tries, in order. */
  order(): number[] {
    return this.health.order(this.rule.balance);
  }

  succeeded(index: number): void {
    this.health.recordSuccess(index);
  }

  failed(index: number): void {
    this.health.recordFailure(index);
  }

  /** A connection or flow moved past its first-choice target. */
  failedOver(): void {
    this.counters.add(this.row, FIELD.FAILOVERS, 1);
  }

  /** Up (true) or down per target index, as this shard sees them. */
  states(): boolean[] {
    return this.health.states();
  }

  /** Health belongs to the target list: a change of caps or timeouts keeps what was learnt. */
  update(rule: RuleSpec): void {
    const targetsChanged =
      JSON.stringify(rule.targets) !== JSON.stringify(this.rule.targets) ||
      rule.healthCheckIntervalMs !== this.rule.healthCheckIntervalMs ||
      rule.preferIpv6 !== this.rule.preferIpv6;
    this.rule = rule;
    if (targetsChanged) {
      this.health.stop();
      this.health = this.newHealth();
    }
  }

  stop(): void {
    this.health.stop();
  }

  private newHealth(): TargetHealth {
    const health = new TargetHealth(this.rule.targets.length, {
      onChange: () => {
        let down = 0n;
        health.states().forEach((up, i) => {
          if (!up) down |= 1n << BigInt(i);
        });
        this.counters.store(this.row, FIELD.TARGETS_DOWN, down);
      },
    });
    this.counters.store(this.row, FIELD.TARGETS_DOWN, 0n);
    const interval = this.rule.healthCheckIntervalMs;
    if (interval !== null) health.startProbing(interval, (index) => this.probe(index));
    return health;
  }

  /**
   * A name's addresses are tried in turn, as connections try them: one that answers is enough.
   * null when no address could be tried for this host's own want of descriptors or memory.
   */
  private async probe(index: number): Promise<boolean | null> {
    const target = this.rule.targets[index];
    if (target === undefined) return false;
    let addresses: string[];
    try {
      addresses = await this.dns.resolve(target.host, this.rule.preferIpv6);
    } catch {
      return false;
    }
    const port = targetPort(target, this.rule.listen, this.rule.listen.portLo);
    let verdict: boolean | null = addresses.length === 0 ? false : null;
    for (const address of addresses) {
      const up = await this.probeAddress(address, port, this.rule.connectTimeoutMs);
      if (up === true) return true;
      if (up === false) verdict = false;
    }
    return verdict;
  }
}
