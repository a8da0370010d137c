// Bytes (in + out) each owner's rules moved on this edge since the boot began: what the stats
// report per owner, and what a pushed quota budget is measured against (a budget is the usage
// at which the owner stops, in this counter's terms). Built from the per-rule cumulative stats,
// which never go down within a boot (rule-stats-collector.ts), so the sum only grows.

import type { OwnerUsage as OwnerUsageReport, RuleStats } from '@sluice/protocol';

export interface OwnerUsageState {
  /** Per owner: bytes since the boot began. */
  readonly owners: Readonly<Record<string, number>>;
  /** Per rule id: its bytes in + out when last looked at. */
  readonly rules: Readonly<Record<string, number>>;
}

export class OwnerUsage {
  private readonly byOwner = new Map<string, number>();
  private readonly lastByRule = new Map<string, number>();

  constructor(restored?: OwnerUsageState) {
    for (const [owner, bytes] of Object.entries(restored?.owners ?? {})) this.byOwner.set(owner, bytes);
    for (const [rule, bytes] of Object.entries(restored?.rules ?? {})) this.lastByRule.set(rule, bytes);
  }

  /** Adds what each rule moved since it was last looked at to the owner it has now. */
  observe(stats: readonly RuleStats[], ownerOf: (ruleId: string) => string | undefined): void {
    for (const rule of stats) {
      const owner = ownerOf(rule.ruleId);
      const total = rule.bytesIn + rule.bytesOut;
      const before = this.lastByRule.get(rule.ruleId) ?? 0;
      this.lastByRule.set(rule.ruleId, total);
      if (owner === undefined || total <= before) continue;
      this.byOwner.set(owner, (this.byOwner.get(owner) ?? 0) + total - before);
    }
  }

  of(owner: string): number {
    return this.byOwner.get(owner) ?? 0;
  }

  report(): OwnerUsageReport[] {
    return [...this.byOwner].map(([owner, bytes]) => ({ owner, bytes }));
  }

  state(): OwnerUsageState {
    return { owners: Object.fromEntries(this.byOwner), rules: Object.fromEntries(this.lastByRule) };
  }
}
