// Chooses the order in which a connection tries its rule's targets. `failover` always starts at
// the first target; `round-robin` starts one further each time. The walk then goes on through
// the rest in order, so a refused connect moves to the next target either way.

import type { Balance } from '@sluice/config';

export class TargetPicker {
  private next = 0;
  private readonly count: number;
  private readonly balance: Balance;

  constructor(count: number, balance: Balance) {
    this.count = count;
    this.balance = balance;
  }

  /** Index of the first target to try for a new connection. */
  first(): number {
    if (this.balance === 'failover' || this.count === 1) return 0;
    const index = this.next;
    this.next = (this.next + 1) % this.count;
    return index;
  }
}
