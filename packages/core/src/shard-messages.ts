// Messages between the supervisor and a shard, over the shard's MessagePort. Plain data only:
// structured clone drops class identity, so errors travel as CoreErrorData.

import type { RuleSpec } from '@sluice/config';
import type { SpliceStatus } from '@sluice/splice';
import type { CoreErrorData } from './errors.ts';
import type { LogFn } from './log-fn.ts';

export interface ShardInit {
  readonly shard: number;
  /** How many shards the edge runs: they share the user's pipe budget (packages/splice). */
  readonly shards: number;
  readonly counters: SharedArrayBuffer;
  /** The QoS table (packages/qos), shared by every shard and the supervisor. */
  readonly qos: SharedArrayBuffer;
  /** The edge's connection budget (connection-budget.ts). */
  readonly budget: SharedArrayBuffer;
  /** Test hooks (crash on demand) are wired only when this is set. */
  readonly testHooks: boolean;
}

/** One rule to bind on a shard, under its counter slot and its owner's QoS slot. */
export interface ShardBinding {
  readonly rule: RuleSpec;
  readonly slot: number;
  readonly ownerSlot: number;
}

// Rules are addressed by counter slot: a slot stays with one rule from bind until release,
// so a removed rule still draining never collides with a new rule of the same name.
// A bind carries many rules so that a full push (a replay of thousands) costs one message per
// shard per batch rather than one per rule; the shard answers one error or null per binding.
export type ToShard =
  | { readonly type: 'bind'; readonly id: number; readonly bindings: readonly ShardBinding[] }
  | {
      readonly type: 'update';
      readonly id: number;
      readonly rule: RuleSpec;
      readonly slot: number;
      readonly ownerSlot: number;
    }
  /** Stop accepting; open connections go on. */
  | { readonly type: 'unbind'; readonly id: number; readonly slot: number }
  /** Close whatever connections remain and forget the rule. */
  | { readonly type: 'release'; readonly id: number; readonly slot: number }
  | { readonly type: 'crash' };

export type FromShard =
  | { readonly type: 'ready'; readonly splice: SpliceStatus }
  | { readonly type: 'reply'; readonly id: number; readonly error: CoreErrorData | null }
  /** The answer to a bind: one entry per binding, in order. */
  | { readonly type: 'bound'; readonly id: number; readonly errors: readonly (CoreErrorData | null)[] }
  | {
      readonly type: 'log';
      readonly level: Parameters<LogFn>[0];
      readonly msg: string;
      readonly fields: Record<string, unknown>;
    };
