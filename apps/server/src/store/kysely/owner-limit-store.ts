// Owner caps per edge: one row per (edge, owner), the limits table as JSON.

import type { Selectable } from 'kysely';
import type { OwnerLimitsTable } from '../database.ts';
import type { OwnerLimitsRecord } from '../records.ts';
import type { OwnerLimitStore } from '../store.ts';
import { changed, type StoreContext } from './store-context.ts';

function toOwnerLimits(row: Selectable<OwnerLimitsTable>): OwnerLimitsRecord {
  return {
    edgeId: row.edge_id,
    owner: row.owner,
    limits: JSON.parse(row.limits) as Record<string, unknown>,
    updatedAt: Number(row.updated_at),
  };
}

export class KyselyOwnerLimitStore implements OwnerLimitStore {
  private readonly ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
  }

  async get(edgeId: string, owner: string): Promise<OwnerLimitsRecord | null> {
    const row = await this.ctx.db
      .selectFrom('owner_limits')
      .selectAll()
      .where('edge_id', '=', edgeId)
      .where('owner', '=', owner)
      .executeTakeFirst();
    return row === undefined ? null : toOwnerLimits(row);
  }

  async ofEdge(edgeId: string): Promise<Record<string, Record<string, unknown>>> {
    const rows = await this.ctx.db
      .selectFrom('owner_limits')
      .selectAll()
      .where('edge_id', '=', edgeId)
      .orderBy('owner')
      .execute();
    const owners: Record<string, Record<string, unknown>> = {};
    for (const row of rows) owners[row.owner] = toOwnerLimits(row).limits;
    return owners;
  }

  async set(edgeId: string, owner: string, limits: Record<string, unknown>): Promise<OwnerLimitsRecord> {
    const record: OwnerLimitsRecord = { edgeId, owner, limits, updatedAt: this.ctx.now() };
    await this.ctx.db
      .insertInto('owner_limits')
      .values({ edge_id: edgeId, owner, limits: JSON.stringify(limits), updated_at: record.updatedAt })
      .onConflict((oc) =>
        oc.columns(['edge_id', 'owner']).doUpdateSet((eb) => ({
          limits: eb.ref('excluded.limits'),
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .execute();
    return record;
  }

  async delete(edgeId: string, owner: string): Promise<boolean> {
    const result = await this.ctx.db
      .deleteFrom('owner_limits')
      .where('edge_id', '=', edgeId)
      .where('owner', '=', owner)
      .executeTakeFirst();
    return changed(result) > 0;
  }
}
