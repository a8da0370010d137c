// What a shard does with a rule, whatever its protocol: TCP (rule-runtime.ts) or UDP
// (udp-relay.ts).

import type { RuleSpec } from '@sluice/config';
import type { CoreErrorData } from './errors.ts';

export interface ShardRule {
  /** Binds every port of the listen, or none (the error names the port that failed). */
  bind(): Promise<CoreErrorData | null>;
  /** New targets, balance and owner for new connections or flows; caps live in the QoS table. */
  update(rule: RuleSpec, qosOwner: number): void;
  /** Stops accepting; TCP connections go on (UDP flows end: replies need the listening socket). */
  unbind(): void;
  /** Closes whatever connections or flows remain. */
  closeConnections(): void;
}
