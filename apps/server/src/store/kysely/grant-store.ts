// Grants, with their user's and edge's names joined in for the API's views.

import type { Selectable } from 'kysely';
import type { GrantsTable } from '../database.ts';
import type { GrantProtocol, GrantRecord } from '../records.ts';
import { newId } from '../secrets.ts';
import type { GrantFilter, GrantStore, NewGrant } from '../store.ts';
import { changed, type StoreContext } from './store-context.ts';

function toGrant(
  row: Selectable<GrantsTable> & { user_name: string; edge_name: string | null },
): GrantRecord {
  const protocols: GrantProtocol[] = [];
  if (Number(row.tcp) === 1) protocols.push('tcp');
  if (Number(row.udp) === 1) protocols.push('udp');
  return {
    id: row.id,
    userId: row.user_id,
    userName: row.user_name,
    edgeId: row.edge_id,
    edgeName: row.edge_name,
    portLo: Number(row.port_lo),
    portHi: Number(row.port_hi),
    protocols,
    createdAt: Number(row.created_at),
  };
}

function grants(ctx: StoreContext) {
  return ctx.db
    .selectFrom('grants as g')
    .innerJoin('users as u', 'u.id', 'g.user_id')
    .leftJoin('edges as e', 'e.id', 'g.edge_id')
    .selectAll('g')
    .select(['u.name as user_name', 'e.name as edge_name']);
}

export class KyselyGrantStore implements GrantStore {
  private readonly ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
  }

  create(grant: NewGrant): Promise<GrantRecord> {
    return this.ctx.atomically(async (ctx) => {
      const id = newId('g_');
      await ctx.db
        .insertInto('grants')
        .values({
          id,
          user_id: grant.userId,
          edge_id: grant.edgeId,
          port_lo: grant.portLo,
          port_hi: grant.portHi,
          tcp: grant.protocols.includes('tcp') ? 1 : 0,
          udp: grant.protocols.includes('udp') ? 1 : 0,
          created_at: ctx.now(),
        })
        .execute();
      return toGrant(await grants(ctx).where('g.id', '=', id).executeTakeFirstOrThrow());
    });
  }

  async get(id: string): Promise<GrantRecord | null> {
    const row = await grants(this.ctx).where('g.id', '=', id).executeTakeFirst();
    return row === undefined ? null : toGrant(row);
  }

  async list(filter: GrantFilter = {}): Promise<GrantRecord[]> {
    const { userId, edgeId } = filter;
    const rows = await grants(this.ctx)
      .$if(userId !== undefined, (q) => q.where('g.user_id', '=', userId!))
      .$if(edgeId !== undefined, (q) =>
        q.where((eb) => eb.or([eb('g.edge_id', '=', edgeId!), eb('g.edge_id', 'is', null)])),
      )
      .orderBy('g.created_at')
      .orderBy('g.id')
      .execute();
    return rows.map(toGrant);
  }

  async listByUser(userId: string): Promise<GrantRecord[]> {
    const rows = await grants(this.ctx)
      .where('g.user_id', '=', userId)
      .orderBy('g.created_at')
      .orderBy('g.id')
      .execute();
    return rows.map(toGrant);
  }

  async delete(id: string): Promise<boolean> {
    return changed(await this.ctx.db.deleteFrom('grants').where('id', '=', id).executeTakeFirst()) > 0;
  }
}
