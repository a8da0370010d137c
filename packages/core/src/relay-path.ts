// The seam between "a connection is admitted and both sockets are connected" and "bytes move".
// The JS path (js-relay.ts) is the default; the splice path plugs in here as another RelayPath.

import type { Socket } from 'node:net';
import type { QosTable } from '@sluice/qos';
import type { Counters } from './counters.ts';

/** Where a rule's numbers live: its counter row on this shard and its QoS entities. */
export interface RuleAccounts {
  readonly counters: Counters;
  /** Counter row of this rule on this shard. */
  readonly row: number;
  readonly qos: QosTable;
  /** QoS entity of the rule's slot. */
  readonly qosRule: number;
  /** QoS entity of the rule's owner. */
  readonly qosOwner: number;
}

/** Counters and QoS entities of the connection's rule, then what the relay needs to run. */
export interface RelayContext extends RuleAccounts {
  readonly halfCloseTimeoutMs: number;
  /** Called once, when both sockets are closed. */
  readonly onClose: () => void;
}

export interface RelayHandle {
  /** Drain timeout or rule removal: close both sides now. */
  destroy(): void;
}

export type RelayPath = (client: Socket, upstream: Socket, context: RelayContext) => RelayHandle;
