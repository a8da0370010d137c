// Replicas and edge session records on both backends: heartbeats that keep their start, the live
// set by heartbeat, claims that answer what they replaced, releases only of one's own session,
// and records that go with their replica or their edge.

import { beforeEach, describe, expect, it } from 'vitest';
import type { EdgeSessionRecord } from './records.ts';
import type { Store } from './store.ts';
import { STORE_BACKENDS, useStoreBackend } from './store-backends.fixture.ts';

describe.each(STORE_BACKENDS)('replicas on %s', (backend) => {
  const fx = useStoreBackend(backend);
  let now = 1_000;
  let store: Store;
  let edgeId: string;

  const session = (replicaId: string, sessionId: string, edge = edgeId): EdgeSessionRecord => ({
    edgeId: edge,
    replicaId,
    sessionId,
    bootId: `boot-${sessionId}`,
    since: now,
  });

  beforeEach(async () => {
    now = 1_000;
    store = await fx.open({ now: () => now });
    edgeId = (await store.edges.createEnrollment('edge-01', 60_000, null)).edge.id;
  });

  it('heartbeat inserts, then refreshes keeping startedAt; live is by heartbeat, oldest start first', async () => {
    await store.replicas.heartbeat({ id: 'b', controlHost: 'b.example', controlPort: 7443 });
    now = 2_000;
    await store.replicas.heartbeat({ id: 'a', controlHost: 'a.example', controlPort: 7444 });
    now = 3_000;
    await store.replicas.heartbeat({ id: 'b', controlHost: 'b2.example', controlPort: 7445 });
    expect(await store.replicas.live(0)).toEqual([
      { id: 'b', controlHost: 'b2.example', controlPort: 7445, startedAt: 1_000, heartbeatAt: 3_000 },
      { id: 'a', controlHost: 'a.example', controlPort: 7444, startedAt: 2_000, heartbeatAt: 2_000 },
    ]);
    expect((await store.replicas.live(2_001)).map((r) => r.id)).toEqual(['b']);
    expect((await store.replicas.live(2_000)).map((r) => r.id)).toEqual(['b', 'a']);
    expect(await store.replicas.live(3_001)).toEqual([]);
  });

  it('claimSession answers the record it replaced; releaseSession deletes only its own', async () => {
    expect(await store.replicas.session(edgeId)).toBeNull();
    const first = session('a', 's1');
    expect(await store.replicas.claimSession(first)).toBeNull();
    expect(await store.replicas.session(edgeId)).toEqual(first);
    now = 5_000;
    const second = session('b', 's2');
    expect(await store.replicas.claimSession(second)).toEqual(first);
    expect(await store.replicas.session(edgeId)).toEqual(second);
    // The old session ending late must not drop the new one's record.
    expect(await store.replicas.releaseSession(edgeId, 's1')).toBe(false);
    expect(await store.replicas.session(edgeId)).toEqual(second);
    expect(await store.replicas.releaseSession(edgeId, 's2')).toBe(true);
    expect(await store.replicas.session(edgeId)).toBeNull();
    expect(await store.replicas.releaseSession(edgeId, 's2')).toBe(false);
  });

  it('sessions lists every record; remove takes the replica and its records, deleting an edge its record', async () => {
    const other = (await store.edges.createEnrollment('edge-02', 60_000, null)).edge.id;
    const third = (await store.edges.createEnrollment('edge-03', 60_000, null)).edge.id;
    await store.replicas.heartbeat({ id: 'a', controlHost: 'a', controlPort: 1 });
    await store.replicas.heartbeat({ id: 'b', controlHost: 'b', controlPort: 2 });
    const records = [session('a', 's1'), session('b', 's2', other), session('a', 's3', third)];
    for (const record of records) await store.replicas.claimSession(record);
    const byEdge = (list: EdgeSessionRecord[]) => [...list].sort((x, y) => x.edgeId.localeCompare(y.edgeId));
    expect(byEdge(await store.replicas.sessions())).toEqual(byEdge(records));
    await store.replicas.remove('a');
    expect(await store.replicas.sessions()).toEqual([records[1]]);
    expect((await store.replicas.live(0)).map((r) => r.id)).toEqual(['b']);
    await store.edges.delete(other);
    expect(await store.replicas.sessions()).toEqual([]);
  });

  it('a claim inside a transaction that rolls back leaves the old record', async () => {
    const first = session('a', 's1');
    await store.replicas.claimSession(first);
    await expect(
      store.transaction(async (tx) => {
        expect(await tx.replicas.claimSession(session('b', 's2'))).toEqual(first);
        throw new Error('undo');
      }),
    ).rejects.toThrow('undo');
    expect(await store.replicas.session(edgeId)).toEqual(first);
  });
});
