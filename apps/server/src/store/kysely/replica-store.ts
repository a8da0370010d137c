// Replicas (the sluice-server processes sharing this store) and the one control session record
// of each edge. Claiming a session locks the edge row first on PostgreSQL, so two servers
// claiming one edge at once both answer the record each really replaced.

import type { Selectable } from 'kysely';
import type { EdgeSessionsTable, ReplicasTable } from '../database.ts';
import type { EdgeSessionRecord, ReplicaRecord } from '../records.ts';
import type { ReplicaStore } from '../store.ts';
import { KyselyEdgeStore } from './edge-store.ts';
import { changed, type StoreContext } from './store-context.ts';

function toReplica(row: Selectable<ReplicasTable>): ReplicaRecord {
  return {
    id: row.id,
    controlHost: row.control_host,
    controlPort: Number(row.control_port),
    startedAt: Number(row.started_at),
    heartbeatAt: Number(row.heartbeat_at),
  };
}

function toSession(row: Selectable<EdgeSessionsTable>): EdgeSessionRecord {
  return {
    edgeId: row.edge_id,
    replicaId: row.replica_id,
    sessionId: row.session_id,
    bootId: row.boot_id,
    since: Number(row.since),
  };
}

export class KyselyReplicaStore implements ReplicaStore {
  private readonly ctx: StoreContext;

  constructor(ctx: StoreContext) {
    this.ctx = ctx;
  }

  async heartbeat(replica: { id: string; controlHost: string; controlPort: number }): Promise<void> {
    const now = this.ctx.now();
    await this.ctx.db
      .insertInto('replicas')
      .values({
        id: replica.id,
        control_host: replica.controlHost,
        control_port: replica.controlPort,
        started_at: now,
        heartbeat_at: now,
      })
      .onConflict((oc) =>
        oc.column('id').doUpdateSet((eb) => ({
          control_host: eb.ref('excluded.control_host'),
          control_port: eb.ref('excluded.control_port'),
          heartbeat_at: eb.ref('excluded.heartbeat_at'),
        })),
      )
      .execute();
  }

  async live(since: number): Promise<ReplicaRecord[]> {
    const rows = await this.ctx.db
      .selectFrom('replicas')
      .selectAll()
      .where('heartbeat_at', '>=', since)
      .orderBy('started_at')
      .orderBy('id')
      .execute();
    return rows.map(toReplica);
  }

  remove(id: string): Promise<void> {
    return this.ctx.atomically(async ({ db }) => {
      await db.deleteFrom('edge_sessions').where('replica_id', '=', id).execute();
      await db.deleteFrom('replicas').where('id', '=', id).execute();
    });
  }

  claimSession(session: EdgeSessionRecord): Promise<EdgeSessionRecord | null> {
    return this.ctx.atomically(async (ctx) => {
      await new KyselyEdgeStore(ctx).lock(session.edgeId);
      const old = await ctx.db
        .selectFrom('edge_sessions')
        .selectAll()
        .where('edge_id', '=', session.edgeId)
        .executeTakeFirst();
      const row = {
        edge_id: session.edgeId,
        replica_id: session.replicaId,
        session_id: session.sessionId,
        boot_id: session.bootId,
        since: session.since,
      };
      const { edge_id: _key, ...update } = row;
      await ctx.db
        .insertInto('edge_sessions')
        .values(row)
        .onConflict((oc) => oc.column('edge_id').doUpdateSet(update))
        .execute();
      return old === undefined ? null : toSession(old);
    });
  }

  async releaseSession(edgeId: string, sessionId: string): Promise<boolean> {
    const result = await this.ctx.db
      .deleteFrom('edge_sessions')
      .where('edge_id', '=', edgeId)
      .where('session_id', '=', sessionId)
      .executeTakeFirst();
    return changed(result) > 0;
  }

  async sessions(): Promise<EdgeSessionRecord[]> {
    const rows = await this.ctx.db.selectFrom('edge_sessions').selectAll().orderBy('edge_id').execute();
    return rows.map(toSession);
  }

  async session(edgeId: string): Promise<EdgeSessionRecord | null> {
    const row = await this.ctx.db
      .selectFrom('edge_sessions')
      .selectAll()
      .where('edge_id', '=', edgeId)
      .executeTakeFirst();
    return row === undefined ? null : toSession(row);
  }
}
