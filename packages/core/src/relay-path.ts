// The seam between "a connection is admitted and both sockets are connected" and "bytes move".
// The JS path (js-relay.ts) is the default; the splice path plugs in here as another RelayPath.

import type { Socket } from 'node:net';
import type { Counters } from './counters.ts';

export interface RelayContext {
  readonly counters: Counters;
  /** Counter row of this rule on this shard. */
  readonly row: number;
  readonly halfCloseTimeoutMs: number;
  /** Called once, when both sockets are closed. */
  readonly onClose: () => void;
}

export interface RelayHandle {
  /** Drain timeout or rule removal: close both sides now. */
  destroy(): void;
}

export type RelayPath = (client: Socket, upstream: Socket, context: RelayContext) => RelayHandle;
