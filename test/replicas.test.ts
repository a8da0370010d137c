// The control plane as two sluice-server replicas on one PostgreSQL database (a throwaway
// cluster, initdb + pg_ctl), with real managed edges: a push through either replica reaches the
// edge wherever its session is; the store, not a read-then-write, decides between concurrent
// pushes and redemptions; and a SIGKILLed replica's edges move to the other with their rules
// and their traffic intact.

import { join } from 'node:path';
import { parseEnrollUri } from '@sluice/protocol';
import {
  ACK_ALL_ACTIVE,
  enrollEdge as enrollFake,
  FakeEdge,
  freePorts,
  type PgCluster,
  pollUntil,
  startPgCluster,
  withTimeout,
} from '@sluice/test-kit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, apiError, tcpRule } from './helpers/api-client.ts';
import { deferCleanup, runCleanup } from './helpers/cleanup.ts';
import { addEdge, startControlPlane } from './helpers/control-plane.ts';
import {
  edgeRuleStates,
  enrollCommand,
  enrollEdge,
  startManagedEdge,
} from './helpers/managed-edge-process.ts';
import { MIB, PayloadSink, sendPayload } from './helpers/payload.ts';
import { createDatabase, type ReplicaPlane, startReplicaPlane, uriFor } from './helpers/replica-plane.ts';
import { runServerCommand, startServer } from './helpers/server-process.ts';
import { expectStatsSteady } from './helpers/stats-steady.ts';
import { startEchoTarget } from './helpers/target-server.ts';
import { connectTcp, echoOnce, echoRoundTrip } from './helpers/tcp-client.ts';

let cluster: PgCluster;

beforeAll(async () => {
  cluster = await startPgCluster();
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

afterEach(runCleanup);

/** Enrolls an edge through replica A's API (its URI lists A first) and starts it, connected. */
async function edgeOn(plane: ReplicaPlane, name: string) {
  const enrollment = await plane.apiA.enroll(name);
  const bundle = await enrollEdge(enrollment.uri, join(plane.dir, `${name}.bundle`));
  return startManagedEdge(bundle);
}

describe('replicas on PostgreSQL', () => {
  it('enrollment URIs list both replicas, and a push through B reaches an edge held by A', async () => {
    const plane = await startReplicaPlane(cluster);
    const enrollment = await plane.apiB.enroll('edge-x');
    // B made it: B first, then A.
    expect(enrollment.uri).toMatch(
      new RegExp(
        `^sluice://127\\.0\\.0\\.1:${plane.b.ports.control},127\\.0\\.0\\.1:${plane.a.ports.control}/enroll\\?`,
      ),
    );
    const edge = await edgeOn(plane, 'edge-1');
    await edge.process.waitForMsg('control connected', { server: `127.0.0.1:${plane.a.ports.control}` });
    await plane.apiB.waitConnected('edge-1');
    const target = await startEchoTarget();
    const [port, moved] = await freePorts(2);
    const rule = await plane.apiB.pushActive('edge-1', tcpRule('web', port!, target.port));
    expect(rule.state).toBe('active');
    await echoRoundTrip(port!, 'through a rule pushed via B');
    expect(await edgeRuleStates(edge)).toEqual({ web: 'active' });

    // A change and a removal through B too, and the same errors as on one server.
    const changed = await plane.apiB.request('PUT', `/v1/rules/${rule.id}`, {
      rule: tcpRule('web', moved!, target.port),
    });
    expect(changed.status).toBe(200);
    await echoRoundTrip(moved!, 'after the change via B');
    const clash = await plane.apiB.pushRule('edge-1', tcpRule('web', port!, target.port));
    expect(clash.status).toBe(409);
    expect(apiError(clash).code).toBe('name_taken');
    const removed = await plane.apiB.request('DELETE', `/v1/rules/${rule.id}`);
    expect(removed.status).toBe(200);
    expect(await edgeRuleStates(edge)).toEqual({});
    // The edge still has one session, on A.
    expect(edge.process.logs.filter((log) => log.msg === 'control connected')).toHaveLength(1);
  });

  it('one session per edge across replicas: a hello on B ends the session on A, and pushes follow it', async () => {
    const plane = await startReplicaPlane(cluster);
    const { uri } = await plane.apiA.enroll('edge-1');
    const pin = new URL(uri.replace(/^sluice:\/\/[^/]+/, 'https://x')).searchParams.get('pin')!;
    const code = new URL(uri.replace(/^sluice:\/\/[^/]+/, 'https://x')).searchParams.get('code')!;
    const enrolled = await enrollFake({ port: plane.a.ports.control, pin }, code);
    if (enrolled.type !== 'enrolled') throw new Error(`enroll refused: ${enrolled.code}`);
    const session = async (port: number): Promise<FakeEdge> => {
      const edge = await FakeEdge.connect({ port, pin, ack: ACK_ALL_ACTIVE });
      deferCleanup(() => edge.close());
      edge.hello(enrolled.edgeId, enrolled.secret, 'one-boot');
      const welcome = await edge.next('welcome', 5_000);
      // Every replica's control address, the one that answered first.
      expect(welcome.servers?.map((server) => server.port)).toEqual(
        port === plane.a.ports.control
          ? [plane.a.ports.control, plane.b.ports.control]
          : [plane.b.ports.control, plane.a.ports.control],
      );
      return edge;
    };
    const onA = await session(plane.a.ports.control);
    await plane.apiB.waitConnected('edge-1');
    const onB = await session(plane.b.ports.control);
    await withTimeout(onA.closed, 5_000, 'the older session, on A, to be closed');
    const target = await startEchoTarget();
    const [port] = await freePorts(1);
    // Through A, whose session is gone: routed to B, where the edge is now.
    const rule = await plane.apiA.pushActive('edge-1', tcpRule('web', port!, target.port));
    // The first push on a session is the full one, from before the rule.
    const full = await onB.next('push', 5_000);
    expect(full.full).toBe(true);
    const push = await onB.next('push', 5_000);
    expect(push.upsert.map((pushed) => pushed.id)).toEqual([rule.id]);
    const again = await session(plane.a.ports.control);
    await withTimeout(onB.closed, 5_000, 'the session on B to be closed by the newer one on A');
    expect(again.isClosed).toBe(false);
  });

  it('a replica SIGKILLed and started again at its address is listed once', async () => {
    const plane = await startReplicaPlane(cluster);
    await plane.a.kill();
    // Within the 6 s its old heartbeat still counts as live.
    const again = await startServer({
      dataDir: join(plane.dir, 'a'),
      ports: plane.a.ports,
      args: ['--store', plane.store],
    });
    const { uri } = await new ApiClient(again.apiUrl, plane.token).enroll('edge-1');
    expect(parseEnrollUri(uri).servers.map((server) => server.port)).toEqual([
      plane.a.ports.control,
      plane.b.ports.control,
    ]);
  });

  it('concurrent overlapping pushes through A and B: one wins, the other gets 409', async () => {
    const plane = await startReplicaPlane(cluster);
    await edgeOn(plane, 'edge-1');
    await plane.apiB.waitConnected('edge-1');
    const target = await startEchoTarget();
    const ports = await freePorts(5);
    for (const [i, port] of ports.entries()) {
      const answers = await Promise.all([
        plane.apiA.pushRule('edge-1', tcpRule(`a-${i}`, port, target.port)),
        plane.apiB.pushRule('edge-1', tcpRule(`b-${i}`, port, target.port)),
      ]);
      const statuses = answers.map((answer) => answer.status).sort();
      expect(statuses, `round ${i}: ${answers.map((a) => a.text).join(' | ')}`).toEqual([201, 409]);
      const loser = answers.find((answer) => answer.status === 409)!;
      expect(apiError(loser).code).toBe('port_in_use');
    }
    const rules = await plane.apiA.rules('edge-1');
    expect(rules).toHaveLength(ports.length);
    expect(new Set(rules.map((rule) => rule.rule.listen)).size).toBe(ports.length);
  });

  it('one enrollment code redeemed through both replicas at once: exactly one edge gets it', async () => {
    const plane = await startReplicaPlane(cluster);
    const { uri } = await plane.apiA.enroll('edge-r');
    const results = await Promise.all([
      enrollCommand(uriFor(uri, plane.a.ports.control), join(plane.dir, 'via-a.bundle')),
      enrollCommand(uriFor(uri, plane.b.ports.control), join(plane.dir, 'via-b.bundle')),
    ]);
    const codes = results.map((result) => result.code);
    expect(
      codes.filter((code) => code === 0),
      JSON.stringify(results),
    ).toHaveLength(1);
    const refused = results.find((result) => result.code !== 0)!;
    expect(refused.stderr + refused.stdout).toMatch(/code_used/);
  });

  it('PostgreSQL stopped: the API answers 503 store_unavailable and traffic goes on; started again, the replicas recover', async () => {
    const plane = await startReplicaPlane(cluster, 'stats_interval_secs = 1\n');
    const edge = await edgeOn(plane, 'edge-1');
    const target = await startEchoTarget();
    const [port, later] = await freePorts(2);
    const rule = await plane.apiB.pushActive('edge-1', tcpRule('web', port!, target.port));
    const open = await connectTcp(port!);
    await echoOnce(open, 'before the outage');

    await cluster.halt();
    for (const api of [plane.apiA, plane.apiB]) {
      const answer = await api.get('/v1/rules');
      expect(answer.status, answer.text).toBe(503);
      expect(apiError(answer).code).toBe('store_unavailable');
      const health = await api.get('/healthz', { token: null });
      expect(health.status).toBe(200);
      // Up, but not ready: the probe that reads the database says so.
      const ready = await api.get('/readyz', { token: null });
      expect(ready.status).toBe(503);
      expect(apiError(ready).code).toBe('store_unavailable');
    }
    const metricsReady = await fetch(`http://127.0.0.1:${plane.a.ports.metrics}/readyz`);
    expect(metricsReady.status).toBe(503);
    // The edge forwards on: new connections and an open one.
    for (let i = 0; i < 5; i++) {
      await echoRoundTrip(port!, `during the outage ${i}`);
      await echoOnce(open, `open during the outage ${i}`);
    }
    expect(plane.a.exitStatus).toBeNull();
    expect(plane.b.exitStatus).toBeNull();

    await cluster.resume();
    // No restart: the pools reconnect on the next call.
    for (const api of [plane.apiA, plane.apiB]) {
      await pollUntil(async () => ((await api.get('/v1/rules')).status === 200 ? true : undefined), {
        timeoutMs: 15_000,
        intervalMs: 200,
        what: `${api.baseUrl} to answer again`,
      });
    }
    expect((await plane.apiB.rule(rule.id)).state).toBe('active');
    expect((await plane.apiA.get('/readyz', { token: null })).body).toEqual({ ready: true });
    expect((await fetch(`http://127.0.0.1:${plane.a.ports.metrics}/readyz`)).status).toBe(200);
    // And the edge is reachable for pushes through either replica again.
    await plane.apiB.waitConnected('edge-1', true, 15_000);
    await plane.apiA.pushActive('edge-1', tcpRule('later', later!, target.port));
    await echoRoundTrip(later!, 'pushed after the outage');
    await echoOnce(open, 'open after the outage');
    expect(await edgeRuleStates(edge)).toEqual({ web: 'active', later: 'active' });
  });

  it('SIGKILL of replica A: its edges move to B with their rules active, and a transfer through them completes intact', async () => {
    const plane = await startReplicaPlane(cluster, 'stats_interval_secs = 1\n');
    const edge1 = await edgeOn(plane, 'edge-1');
    const edge2 = await edgeOn(plane, 'edge-2');
    const onA = { server: `127.0.0.1:${plane.a.ports.control}` };
    await edge1.process.waitForMsg('control connected', onA);
    await edge2.process.waitForMsg('control connected', onA);
    const target = await startEchoTarget();
    const [port1, port2, later] = await freePorts(3);
    const one = await plane.apiB.pushActive('edge-1', tcpRule('one', port1!, target.port));
    await plane.apiB.pushActive('edge-2', tcpRule('two', port2!, target.port));

    // A transfer through edge-1 that runs across the failover: about 3 MiB/s for 8 MiB.
    const socket = await connectTcp(port1!);
    const sink = new PayloadSink(socket);
    const sent = sendPayload(socket, 'across the failover', 8 * MIB, { paceMs: 20 });
    const marks = [edge1.process.mark(), edge2.process.mark()];
    expect(await plane.a.kill()).toEqual({ code: null, signal: 'SIGKILL' });
    const onB = { server: `127.0.0.1:${plane.b.ports.control}` };
    // The backoff's first retry is 0.5..1 s; on loopback the move takes about that.
    await edge1.process.waitForMsg('control connected', onB, 5_000, marks[0]);
    // The move happened while the transfer ran.
    expect(sink.bytes).toBeLessThan(8 * MIB);
    await edge2.process.waitForMsg('control connected', onB, 5_000, marks[1]);
    await edge1.process.waitForMsg('rules applied', { full: true, active: 1 }, 5_000, marks[0]);

    const [digestSent, digestGot] = await withTimeout(
      Promise.all([sent, sink.done]),
      30_000,
      'the transfer across the failover',
    );
    expect(digestGot).toEqual(digestSent);
    expect(digestGot.bytes).toBe(8 * MIB);

    // B holds them now: its view agrees with the edges, and a new push lands.
    await plane.apiB.waitConnected('edge-1');
    expect(await edgeRuleStates(edge1)).toEqual({ one: 'active' });
    expect(await edgeRuleStates(edge2)).toEqual({ two: 'active' });
    expect((await plane.apiB.rules()).map((rule) => [rule.name, rule.state]).sort()).toEqual([
      ['one', 'active'],
      ['two', 'active'],
    ]);
    // The rule's totals, folded first by A and then by B under the same boot of the edge, are
    // the transfer's bytes exactly, and stay so a report later: nothing counted twice.
    const totals = async () => {
      const stats = await plane.apiB.stats(one.id);
      return { bytesIn: stats.bytesIn, bytesOut: stats.bytesOut, at: stats.at };
    };
    const reached = await pollUntil(
      async () => {
        const now = await totals();
        return now.bytesIn === 8 * MIB && now.bytesOut === 8 * MIB ? now : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 200, what: 'the stats of rule one at 8 MiB each way' },
    );
    await expectStatsSteady(
      async () => {
        const { bytesIn, bytesOut } = await totals();
        return { bytesIn, bytesOut };
      },
      { bytesIn: reached.bytesIn, bytesOut: reached.bytesOut },
      'rule one',
    );
    await plane.apiB.pushActive('edge-2', tcpRule('later', later!, target.port));
    await echoRoundTrip(later!, 'pushed after the failover');
    await echoRoundTrip(port2!, 'edge-2 kept its rule');
  });
});

describe('migrate-store', () => {
  it('moves a SQLite store to PostgreSQL: every rule, user, grant and quota is there, and the edges reconnect', async () => {
    const plane = await startControlPlane();
    const { api } = plane;
    const edge = await addEdge(plane, 'edge-1');
    const target = await startEchoTarget();
    const [port] = await freePorts(1);
    const rule = await api.pushActive('edge-1', tcpRule('web', port!, target.port));
    const made = await api.post<{ id: string }>('/v1/users', { name: 'dana', role: 'user' });
    expect(made.status, made.text).toBe(201);
    const token = await api.post<{ token: string }>('/v1/users/dana/tokens', { name: 'laptop' });
    expect(token.status, token.text).toBe(201);
    const grant = await api.post('/v1/grants', {
      user: 'dana',
      edge: 'edge-1',
      ports: { from: 20_000, to: 20_099 },
      protocols: ['tcp'],
    });
    expect(grant.status, grant.text).toBe(201);
    const quota = await api.request('PUT', '/v1/users/dana/quotas/edge-1', { monthlyBytes: 5_000_000 });
    expect(quota.status, quota.text).toBe(200);
    // The full push on reconnect acks every rule again: nothing of them may change but updatedAt.
    const rulesNow = async () => (await api.rules()).map(({ updatedAt: _acked, ...kept }) => kept);
    const before = {
      rules: await rulesNow(),
      users: await api.ok('/v1/users'),
      grants: await api.ok('/v1/grants'),
      quotas: await api.ok('/v1/users/dana/quotas'),
      audit: await api.ok('/v1/audit?limit=100'),
    };

    const store = await createDatabase(cluster);
    // A running server holds the data dir: refused.
    const busy = await runServerCommand(['migrate-store', '--from', plane.dataDir, '--to', store]);
    expect(busy.code, busy.stderr).toBe(5);
    expect(busy.stderr).toMatch(/^store_in_use: /m);
    await plane.server.kill();
    const moved = await runServerCommand(['migrate-store', '--from', plane.dataDir, '--to', store]);
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stdout).toMatch(
      /^moved \d+ rows in 13 tables to PostgreSQL 127\.0\.0\.1:\d+\/\w+, every row checked/,
    );
    // Into a database that is no longer empty: refused, nothing touched.
    const again = await runServerCommand(['migrate-store', '--from', plane.dataDir, '--to', store]);
    expect(again.code).toBe(8);
    expect(again.stderr).toMatch(/^migrate_failed: .*not empty/m);

    const mark = edge.process.mark();
    plane.server = await startServer({
      dataDir: plane.dataDir,
      ports: plane.server.ports,
      args: ['--store', store],
    });
    await edge.process.waitForMsg('control connected', {}, 35_000, mark);
    await api.waitConnected('edge-1', true, 10_000);
    expect({
      rules: await rulesNow(),
      users: await api.ok('/v1/users'),
      grants: await api.ok('/v1/grants'),
      quotas: await api.ok('/v1/users/dana/quotas'),
      audit: await api.ok('/v1/audit?limit=100'),
    }).toEqual(before);
    expect((await api.rule(rule.id)).state).toBe('active');
    await echoRoundTrip(port!, 'after the move');
    // dana's token works on the new store, and new audit entries come after the copied ones.
    const dana = new ApiClient(plane.server.apiUrl, token.body.token);
    expect((await dana.get('/v1/users/me')).status).toBe(200);
    expect((await api.post('/v1/users/dana/tokens', { name: 'after the move' })).status).toBe(201);
    const [newest] = ((await api.ok('/v1/audit?limit=1')) as { entries: { id: number }[] }).entries;
    const copied = (before.audit as { entries: { id: number }[] }).entries;
    expect(newest!.id).toBeGreaterThan(Math.max(...copied.map((entry) => entry.id)));
  });
});
