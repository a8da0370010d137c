// What a shard does with a rule, whatever its protocol: TCP (tcp-rule.ts) or UDP (udp-rule.ts),
// and what the shard lends every rule it runs.

import type { RuleSpec } from '@sluice/config';
import type { ConnectionGate } from './connection-gate.ts';
import type { DnsCache } from './dns-cache.ts';
import type { CoreErrorData } from './errors.ts';
import type { LogFn } from './log-fn.ts';

export interface ShardRule {
  /** Binds every port of the listen, or none (the error names the port that failed). */
  bind(): Promise<CoreErrorData | null>;
  /** New targets, balance and owner for new connections or flows; caps live in the QoS table. */
  update(rule: RuleSpec, qosOwner: number): void;
  /** Stops accepting; TCP connections go on (UDP flows end: replies need the listening socket). */
  unbind(): void;
  /** Closes whatever connections or flows remain. */
  closeConnections(): void;
  /** Cuts the connections or flows of owners whose quota is spent, counting each (quota_exhausted). */
  cutOverQuota(): void;
}

/** What a shard lends its rules: one DNS cache for all of them, its log, its share of the connection budget. */
export interface ShardServices {
  readonly dns: DnsCache;
  readonly log: LogFn;
  readonly gate: ConnectionGate;
}
