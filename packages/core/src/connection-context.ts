// What one accepted TCP connection needs from the rule it came in on, and nothing more: the rule
// (tcp-rule.ts) implements it, and tcp-connection.ts sees the rule only through it, so the two
// files do not import each other.

import type { RuleSpec } from '@sluice/config';
import type { AcceptErrorReason, RelayErrorReason } from '@sluice/counters';
import type { DnsCache } from './dns-cache.ts';
import type { LogFn } from './log-fn.ts';
import type { RelayPath, RuleAccounts } from './relay-path.ts';
import type { RuleTargets } from './rule-targets.ts';
import type { SniRouter } from './sni/sni-router.ts';

/** A connection as its rule holds it: closed with the rule. */
export interface RuleConnection {
  destroy(): void;
  /** The QoS owner entity it was admitted under (-1 until it is admitted). */
  readonly quotaOwner: number;
  /** Its owner's quota ran out: cut it (once), delivering what was counted, and count it. */
  cutForQuota(): void;
}

export interface ConnectionContext {
  /** The rule as it is now; a reload replaces it, and new connections see the new one. */
  readonly rule: RuleSpec;
  /** Counter row and QoS entities; `qosOwner` is the owner new connections are admitted under. */
  readonly accounts: RuleAccounts;
  readonly targets: RuleTargets;
  /** null: the rule has no SNI routes. */
  readonly sni: SniRouter | null;
  readonly dns: DnsCache;
  readonly log: LogFn;
  readonly relayPath: RelayPath;
  /** This host ran out of something a new connection needs (descriptors, memory): count, log. */
  acceptFailed(reason: AcceptErrorReason, errno: string): void;
  /** A relayed connection ended in an error (counted and logged), not a clean close. */
  relayFailed(reason: RelayErrorReason, errno: string): void;
  /** The splice path could not take a pair (errno); the JS relay carries it instead. */
  readonly spliceRefused: (errno: string) => void;
  connectionClosed(connection: RuleConnection): void;
}
