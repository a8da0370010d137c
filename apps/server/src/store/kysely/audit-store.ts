// The audit trail: append-only, read newest first.

import type { Selectable } from 'kysely';
import type { AuditTable } from '../database.ts';
import type { AuditChange, AuditEntry } from '../records.ts';
import type { AuditFilter, AuditStore } from '../store.ts';
import { PreparedQuery } from './prepared-query.ts';
import type { StoreContext } from './store-context.ts';

/** Every API change writes one. */
const INSERT_ENTRY = new PreparedQuery((db, a: Omit<Selectable<AuditTable>, 'id'>) =>
  db.insertInto('audit').values({
    at: a.at,
    user: a.user,
    action: a.action,
    target: a.target,
    outcome: a.outcome,
    from_addr: a.from_addr,
    change_json: a.change_json,
  }),
);

export class KyselyAuditStore implements AuditStore {
  private readonly ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
  }

  async add(
    entry: Omit<AuditEntry, 'at' | 'id' | 'change'> & { at?: number; change?: AuditChange | null },
  ): Promise<void> {
    await INSERT_ENTRY.execute(this.ctx, {
      at: entry.at ?? this.ctx.now(),
      user: entry.user,
      action: entry.action,
      target: entry.target,
      outcome: entry.outcome,
      from_addr: entry.from,
      change_json: entry.change === undefined || entry.change === null ? null : JSON.stringify(entry.change),
    });
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
