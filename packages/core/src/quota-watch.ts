// Says when an owner's monthly quota on this edge runs out and when it comes back: the relay
// paths and the shards' sweep cut and refuse by themselves (packages/qos/src/quota-budget.ts),
// and this logs each transition once, never one line per refused connection or datagram.

import { type QosTable, quotaCapped, quotaExhausted, quotaLeft } from '@sluice/qos';
import type { LogFn } from './log-fn.ts';

/** How often the owners' budgets are looked at. */
export const QUOTA_WATCH_INTERVAL_MS = 250;

export class QuotaWatch {
  private readonly qos: QosTable;
  /** Owner name -> QoS owner slot, as the reconciler holds them. */
  private readonly owners: () => ReadonlyMap<string, number>;
  private readonly log: LogFn;
  private readonly exhausted = new Set<string>();
  private timer: NodeJS.Timeout | null = null;

  constructor(qos: QosTable, owners: () => ReadonlyMap<string, number>, log: LogFn) {
    this.qos = qos;
    this.owners = owners;
    this.log = log;
  }

  start(intervalMs = QUOTA_WATCH_INTERVAL_MS): void {
    this.timer = setInterval(() => this.check(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  check(): void {
    for (const [owner, slot] of this.owners()) {
      const entity = this.qos.owner(slot);
      const spent = quotaExhausted(this.qos.words, entity);
      if (spent && !this.exhausted.has(owner)) {
        this.exhausted.add(owner);
        this.log(
          'warn',
          'owner quota exhausted: new connections refused, open ones reset, datagrams dropped',
          {
            owner,
          },
        );
      } else if (!spent && this.exhausted.delete(owner)) {
        const capped = quotaCapped(this.qos.words, entity);
        this.log('info', 'owner quota restored', {
          owner,
          left_bytes: capped ? Number(quotaLeft(this.qos.words, entity)) : null,
        });
      }
    }
  }
}
