// The audit trail: append-only, read newest first.

import type { AuditChange, AuditEntry } from '../records.ts';
import type { AuditFilter, AuditStore } from '../store.ts';
import type { StoreContext } from './store-context.ts';

export class KyselyAuditStore implements AuditStore {
  private readonly ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
  }

  async add(
    entry: Omit<AuditEntry, 'at' | 'id' | 'change'> & { at?: number; change?: AuditChange | null },
  ): Promise<void> {
    await this.ctx.db
      .insertInto('audit')
      .values({
        at: entry.at ?? this.ctx.now(),
        user: entry.user,
        action: entry.action,
        target: entry.target,
        outcome: entry.outcome,
        from_addr: entry.from,
        change_json:
          entry.change === undefined || entry.change === null ? null : JSON.stringify(entry.change),
      })
      .execute();
  }

  async list(filter: AuditFilter): Promise<AuditEntry[]> {
    const { user, action, since, until, before } = filter;
    const rows = await this.ctx.db
      .selectFrom('audit')
      .selectAll()
      .$if(user !== undefined, (q) => q.where('user', '=', user!))
      .$if(action !== undefined, (q) => q.where('action', '=', action!))
      .$if(since !== undefined, (q) => q.where('at', '>=', since!))
      .$if(until !== undefined, (q) => q.where('at', '<', until!))
      .$if(before !== undefined, (q) => q.where('id', '<', before!))
      .orderBy('id', 'desc')
      .limit(filter.limit)
      .execute();
    return rows.map((row) => ({
      id: Number(row.id),
      at: Number(row.at),
      user: row.user,
      action: row.action,
      target: row.target,
      outcome: row.outcome,
      from: row.from_addr,
      change: row.change_json === null ? null : (JSON.parse(row.change_json) as AuditChange),
    }));
  }
}
