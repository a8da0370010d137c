// Which relay path this shard uses: splice when the addon loads on this thread (and is not
// switched off with SLUICE_NO_SPLICE=1), the JS relay otherwise. The reason travels to the
// supervisor for the start-up log, sluice_splice_enabled and the JSON metrics.

import { SPLICE_COUNTER_FIELDS } from '@sluice/counters';
import { BUCKET, QOS_FIELD } from '@sluice/qos';
import {
  loadSplice,
  type NativeAccept,
  pipeBudgetPages,
  type SpliceStatus,
  spliceStatus,
} from '@sluice/splice';
import { jsRelay } from './js-relay.ts';
import type { RelayPath } from './relay-path.ts';
import type { ShardInit } from './shard-messages.ts';
import { createSpliceRelay } from './splice-relay.ts';

export interface RelaySelection {
  readonly path: RelayPath;
  readonly splice: SpliceStatus;
  /**
   * The native connection path (accept to splice in the addon), for rules that qualify
   * (native-connections.ts); null without the addon or with SLUICE_NO_NATIVE_ACCEPT=1.
   */
  readonly accept: NativeAccept | null;
}

/** Which path carries TCP rules: 'native' for rules that qualify (native-connections.ts). */
export type RelayPathName = 'native' | 'splice' | 'js';

/** The path a thread with this splice status runs: SLUICE_NO_NATIVE_ACCEPT=1 keeps accept in JS. */
export function relayPathName(splice: SpliceStatus): RelayPathName {
  if (!splice.enabled) return 'js';
  return process.env.SLUICE_NO_NATIVE_ACCEPT === '1' ? 'splice' : 'native';
}

export function selectRelayPath(init: Pick<ShardInit, 'counters' | 'qos' | 'shards'>): RelaySelection {
  const native = loadSplice();
  const status = spliceStatus();
  if (!native) return { path: jsRelay, splice: status, accept: null };
  native.init(
    init.counters,
    SPLICE_COUNTER_FIELDS,
    {
      buffer: init.qos,
      bandwidthIn: QOS_FIELD.BANDWIDTH_IN,
      bandwidthOut: QOS_FIELD.BANDWIDTH_OUT,
      rate: BUCKET.RATE,
      limitNs: BUCKET.LIMIT_NS,
      tatNs: BUCKET.TAT_NS,
      quotaCapped: QOS_FIELD.QUOTA_CAPPED,
      quotaLeft: QOS_FIELD.QUOTA_LEFT,
    },
    { budgetPages: pipeBudgetPages(init.shards) },
  );
  return {
    path: createSpliceRelay(native, jsRelay),
    splice: status,
    accept: relayPathName(status) === 'native' ? native.accept : null,
  };
}
