// The seam between "a connection is admitted and both sockets are connected" and "bytes move".
// The JS path (js-relay.ts) is the default; the splice path plugs in here as another RelayPath.

import type { Socket } from 'node:net';
import type { Counters, RelayErrorReason } from '@sluice/counters';
import type { QosTable } from '@sluice/qos';

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

/** Why a relayed connection ended, when one side failed rather than closed. */
export interface RelayFailure {
  readonly reason: RelayErrorReason;
  /** The errno code behind it (ECONNRESET, EPIPE, ETIMEDOUT, ...). */
  readonly errno: string;
}

/** Counters and QoS entities of the connection's rule, then what the relay needs to run. */
export interface RelayContext extends RuleAccounts {
  readonly halfCloseTimeoutMs: number;
  /** Called once, when both sockets are closed; with the first failure, if a side failed. */
  readonly onClose: (failure: RelayFailure | null) => void;
  /** The splice path could not take the pair (errno says why) and handed it to the JS relay. */
  readonly onSpliceRefused: (errno: string) => void;
}

export interface RelayHandle {
  /** Drain timeout or rule removal: close both sides now. */
  destroy(): void;
  /**
   * The owner's quota ran out: read no more, deliver what was read, reset both sides, and
   * count it once as rejected quota_exhausted. Calling it again changes nothing.
   */
  quotaSpent(): void;
}

export type RelayPath = (client: Socket, upstream: Socket, context: RelayContext) => RelayHandle;
