// The supervisor's record of one rule: its spec, counter slot, state and error, and the state
// machine it moves through:
//   pending  -> active | failed        (every shard bound it | one could not: released everywhere)
//   active   -> draining               (removed, changed listen, or stopping: no new connections)
//   draining -> removed                (no connection left, or the drain timeout closed them)
// A failed rule holds nothing; applying the config again retries it.

import type { RuleSpec } from '@sluice/config';
import type { CoreErrorData } from './errors.ts';

export type RuleState = 'pending' | 'active' | 'failed' | 'draining' | 'removed';

const NEXT: Readonly<Record<RuleState, readonly RuleState[]>> = {
  pending: ['active', 'failed'],
  active: ['draining'],
  failed: [],
  draining: ['removed'],
  removed: [],
};

export class RuleRecord {
  spec: RuleSpec;
  /** Counter slot; held from bind until removed. */
  slot: number | null = null;
  state: RuleState = 'pending';
  error: CoreErrorData | null = null;

  constructor(spec: RuleSpec) {
    this.spec = spec;
  }

  to(next: RuleState, error: CoreErrorData | null = null): void {
    if (!NEXT[this.state].includes(next)) {
      throw new Error(`rule ${this.spec.name}: no transition ${this.state} -> ${next}`);
    }
    this.state = next;
    this.error = error;
  }
}
