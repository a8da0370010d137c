// Rules: the rule table as JSON, its revision and the state the edge last reported. A removed
// rule stays as a tombstone until its edge confirms.

import type { Kysely, Selectable } from 'kysely';
import type { Database, RulesTable } from '../database.ts';
import { type ListenKeys, listenKeysOf } from '../listen-keys.ts';
import type { RuleRecord, RuleState } from '../records.ts';
import { newId } from '../secrets.ts';
import type { NewRule, RuleFilter, RuleStore } from '../store.ts';
import { PreparedQuery } from './prepared-query.ts';
import { changed, type StoreContext } from './store-context.ts';

function toRule(row: Selectable<RulesTable> & { edge_name: string }): RuleRecord {
  return {
    id: row.id,
    edgeId: row.edge_id,
    edgeName: row.edge_name,
    owner: row.owner,
    name: row.name,
    revision: Number(row.revision),
    state: row.state as RuleState,
    reason: row.reason,
    message: row.message,
    body: JSON.parse(row.body) as Record<string, unknown>,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** Rule ids per UPDATE when many rules go active at once (SQLite allows 32,766 parameters). */
const SET_ACTIVE_BATCH = 500;

/** The indexed columns of a rule's listen. */
function keyColumns(body: Readonly<Record<string, unknown>>) {
  const keys = listenKeysOf(body);
  return {
    protocol: keys?.protocol ?? null,
    port_lo: keys?.portLo ?? null,
    port_span: keys === null ? null : keys.portHi - keys.portLo,
  };
}

function rules(db: Kysely<Database>) {
  return db
    .selectFrom('rules as r')
    .innerJoin('edges as e', 'e.id', 'r.edge_id')
    .selectAll('r')
    .select('e.name as edge_name');
}

const RULE_BY_ID = new PreparedQuery((db, a: { id: string }) => rules(db).where('r.id', '=', a.id));

const INSERT_RULE = new PreparedQuery((db, a: Omit<Selectable<RulesTable>, 'reason' | 'message'>) =>
  db.insertInto('rules').values({
    id: a.id,
    edge_id: a.edge_id,
    owner: a.owner,
    name: a.name,
    revision: a.revision,
    state: a.state,
    body: a.body,
    protocol: a.protocol,
    port_lo: a.port_lo,
    port_span: a.port_span,
    created_at: a.created_at,
    updated_at: a.updated_at,
  }),
);

/** The clash checks' statements (clashCandidates): live rules by name, and by listen port. */
const LIVE_BY_NAME = new PreparedQuery((db, a: { edgeId: string; name: string }) =>
  rules(db).where('r.edge_id', '=', a.edgeId).where('r.state', '!=', 'removed').where('r.name', '=', a.name),
);

const WIDEST_LISTEN = new PreparedQuery((db, a: { edgeId: string; protocol: string }) =>
  db
    .selectFrom('rules')
    .select('port_span')
    .where('edge_id', '=', a.edgeId)
    .where('protocol', '=', a.protocol)
    .where('state', '!=', 'removed')
    .where('port_span', 'is not', null)
    .orderBy('port_span', 'desc')
    .limit(1),
);

const LIVE_BY_PORT = new PreparedQuery(
  (db, a: { edgeId: string; protocol: string; lowest: number; portLo: number; portHi: number }) =>
    rules(db)
      .where('r.edge_id', '=', a.edgeId)
      .where('r.state', '!=', 'removed')
      .where('r.protocol', '=', a.protocol)
      .where('r.port_lo', '>=', a.lowest)
      .where('r.port_lo', '<=', a.portHi)
      .where((eb) => eb(eb('r.port_lo', '+', eb.ref('r.port_span')), '>=', a.portLo)),
);

async function ruleById(ctx: StoreContext, id: string): Promise<RuleRecord | null> {
  const row = await RULE_BY_ID.first(ctx, { id });
  return row === undefined ? null : toRule(row);
}

export class KyselyRuleStore implements RuleStore {
  private readonly ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
  }

  get(id: string): Promise<RuleRecord | null> {
    return ruleById(this.ctx, id);
  }

  async list(filter: RuleFilter = {}): Promise<RuleRecord[]> {
    const { edgeId, owner } = filter;
    const rows = await rules(this.ctx.db)
      .where('r.state', '!=', 'removed')
      .$if(edgeId !== undefined, (q) => q.where('r.edge_id', '=', edgeId!))
      .$if(owner !== undefined, (q) => q.where('r.owner', '=', owner!))
      .orderBy('e.name')
      .orderBy('r.name')
      .execute();
    return rows.map(toRule);
  }

  async ofEdge(edgeId: string): Promise<RuleRecord[]> {
    const rows = await rules(this.ctx.db).where('r.edge_id', '=', edgeId).orderBy('r.name').execute();
    return rows.map(toRule);
  }

  async countByState(): Promise<Record<RuleState, number>> {
    const counts: Record<RuleState, number> = { pending: 0, active: 0, failed: 0, removed: 0 };
    const rows = await this.ctx.db
      .selectFrom('rules')
      .select((eb) => ['state', eb.fn.countAll().as('n')])
      .groupBy('state')
      .execute();
    for (const row of rows) counts[row.state as RuleState] = Number(row.n);
    return counts;
  }

  insert(rule: NewRule): Promise<RuleRecord> {
    return this.ctx.atomically(async (ctx) => {
      const id = newId('r_');
      const now = ctx.now();
      await INSERT_RULE.execute(ctx, {
        id,
        edge_id: rule.edgeId,
        owner: rule.owner,
        name: rule.name,
        revision: 1,
        state: 'pending',
        body: JSON.stringify(rule.body),
        ...keyColumns(rule.body),
        created_at: now,
        updated_at: now,
      });
      return (await ruleById(ctx, id))!;
    });
  }

  revise(id: string, change: { name: string; body: Record<string, unknown> }): Promise<RuleRecord> {
    return this.ctx.atomically(async (ctx) => {
      await ctx.db
        .updateTable('rules')
        .set((eb) => ({
          name: change.name,
          body: JSON.stringify(change.body),
          ...keyColumns(change.body),
          revision: eb('revision', '+', 1),
          state: 'pending',
          reason: null,
          message: null,
          updated_at: ctx.now(),
        }))
        .where('id', '=', id)
        .execute();
      return (await ruleById(ctx, id))!;
    });
  }

  async setState(
    edgeId: string,
    id: string,
    revision: number,
    state: Exclude<RuleState, 'removed'>,
    reason: string | null = null,
    message: string | null = null,
  ): Promise<boolean> {
    const result = await this.ctx.db
      .updateTable('rules')
      .set({ state, reason, message, updated_at: this.ctx.now() })
      .where('id', '=', id)
      .where('edge_id', '=', edgeId)
      .where('revision', '=', revision)
      .where('state', '!=', 'removed')
      .executeTakeFirst();
    return changed(result) > 0;
  }

  async setActive(
    edgeId: string,
    results: readonly { readonly ruleId: string; readonly revision: number }[],
  ): Promise<number> {
    const byRevision = new Map<number, string[]>();
    for (const { ruleId, revision } of results) {
      const ids = byRevision.get(revision) ?? [];
      ids.push(ruleId);
      byRevision.set(revision, ids);
    }
    let count = 0;
    for (const [revision, ids] of byRevision) {
      for (let at = 0; at < ids.length; at += SET_ACTIVE_BATCH) {
        // A rule active already is left as it is: the ack of a replay names every rule the edge
        // holds, and rewriting each row (and its index entries) only to move updated_at made
        // the store the slowest part of a replay.
        const result = await this.ctx.db
          .updateTable('rules')
          .set({ state: 'active', reason: null, message: null, updated_at: this.ctx.now() })
          .where('edge_id', '=', edgeId)
          .where('revision', '=', revision)
          .where('state', 'in', ['pending', 'failed'])
          .where('id', 'in', ids.slice(at, at + SET_ACTIVE_BATCH))
          .executeTakeFirst();
        count += changed(result);
      }
    }
    return count;
  }

  tombstone(id: string): Promise<RuleRecord | null> {
    return this.ctx.atomically(async (ctx) => {
      await ctx.db
        .updateTable('rules')
        .set({ state: 'removed', reason: null, message: null, updated_at: ctx.now() })
        .where('id', '=', id)
        .execute();
      return ruleById(ctx, id);
    });
  }

  async delete(id: string): Promise<boolean> {
    return changed(await this.ctx.db.deleteFrom('rules').where('id', '=', id).executeTakeFirst()) > 0;
  }

  async purgeTombstones(edgeId: string, ids?: readonly string[]): Promise<number> {
    if (ids !== undefined && ids.length === 0) return 0;
    const result = await this.ctx.db
      .deleteFrom('rules')
      .where('edge_id', '=', edgeId)
      .where('state', '=', 'removed')
      .$if(ids !== undefined, (q) => q.where('id', 'in', ids!))
      .executeTakeFirst();
    return changed(result);
  }

  async clashCandidates(edgeId: string, name: string, keys: ListenKeys | null): Promise<RuleRecord[]> {
    const found = await LIVE_BY_NAME.rows(this.ctx, { edgeId, name });
    if (keys !== null) {
      // A rule starting below keys' first port reaches it only if it is at least that wide:
      // the widest listen of the protocol bounds how far down the index is read.
      const widest = await WIDEST_LISTEN.first(this.ctx, { edgeId, protocol: keys.protocol });
      if (widest !== undefined) {
        const lowest = keys.portLo - Number(widest.port_span);
        const { protocol, portLo, portHi } = keys;
        found.push(...(await LIVE_BY_PORT.rows(this.ctx, { edgeId, protocol, lowest, portLo, portHi })));
      }
    }
    const byId = new Map(found.map((row) => [row.id, row]));
    return [...byId.values()].map(toRule);
  }

  async fillListenKeys(edgeId: string): Promise<number> {
    const rows = await this.ctx.db
      .selectFrom('rules')
      .select(['id', 'body'])
      .where('edge_id', '=', edgeId)
      .where('port_lo', 'is', null)
      .where('state', '!=', 'removed')
      .execute();
    for (const row of rows) {
      await this.ctx.db
        .updateTable('rules')
        .set(keyColumns(JSON.parse(row.body) as Record<string, unknown>))
        .where('id', '=', row.id)
        .execute();
    }
    return rows.length;
  }
}
