import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { PRE_AUTH_MAX_FRAME_BYTES, PROTOCOL_VERSION } from '@sluice/protocol';
import { ACK_ALL_ACTIVE, enrollEdge, FakeEdge, pollUntil, ZERO_COUNTERS } from '@sluice/test-kit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectWith, enrollAndConnect, startTestServer, type TestServer } from '../test-harness.ts';

const RULE = { name: 'web', listen: '127.0.0.1:18080', targets: ['127.0.0.1:18081'] };

const until = (check: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<unknown> =>
  pollUntil(check, { timeoutMs, intervalMs: 10, what: check.toString() });

let test: TestServer;
let pin: string;

beforeEach(async () => {
  test = await startTestServer({ config: { ackTimeoutMs: 400 } });
  pin = test.server.certificate.fingerprint;
});
afterEach(async () => {
  await test.stop();
});

describe('enrollment', () => {
  it('redeems a code once, for the edge the operator named', async () => {
    const made = await test.request('POST', '/v1/enrollments', { edge: 'edge-01', ttl: '5m' });
    expect(made.status).toBe(201);
    expect(made.body.uri).toBe(
      `sluice://127.0.0.1:${test.controlPort}/enroll?pin=${pin}&code=${made.body.code}`,
    );
    expect(made.body.command).toContain(`sluice-edge enroll '${made.body.uri}'`);
    const reply = await enrollEdge({ port: test.controlPort, pin }, made.body.code);
    expect(reply).toMatchObject({ type: 'enrolled', edgeId: made.body.edge.id, name: 'edge-01' });
    const again = await enrollEdge({ port: test.controlPort, pin }, made.body.code);
    expect(again).toMatchObject({ type: 'refused', code: 'code_used' });
    const edge = await test.request('GET', '/v1/edges/edge-01');
    expect(edge.body.enrolledAt).not.toBeNull();
  });

  it('refuses unknown, superseded and expired codes with their codes', async () => {
    expect(await enrollEdge({ port: test.controlPort, pin }, 'not-a-real-code-at-all')).toMatchObject({
      type: 'refused',
      code: 'code_unknown',
    });
    const first = await test.request('POST', '/v1/enrollments', { edge: 'edge-02' });
    const second = await test.request('POST', '/v1/enrollments', { edge: 'edge-02' });
    expect(second.body.edge.id).toBe(first.body.edge.id);
    expect(await enrollEdge({ port: test.controlPort, pin }, first.body.code)).toMatchObject({
      type: 'refused',
      code: 'code_superseded',
    });
    // Expiry is the store's clock (store.test.ts moves it); here a code is made already past it.
    const expired = await test.server.store.edges.createEnrollment('edge-03', -1, 'admin');
    expect(await enrollEdge({ port: test.controlPort, pin }, expired.code)).toMatchObject({
      type: 'refused',
      code: 'code_expired',
    });
    const audit = await test.request('GET', '/v1/audit?limit=10');
    const outcomes = audit.body.entries
      .filter((e: { action: string }) => e.action === 'edge.enroll')
      .map((e: { outcome: string }) => e.outcome);
    expect(outcomes).toEqual(['code_expired', 'code_superseded', 'code_unknown']);
  });
});

describe('failed attempts', () => {
  it('lock an address out after 20 guesses, answered rate_limited, audited and logged once; the lockout ends', async () => {
    await test.stop();
    let clock = Date.parse('2026-12-01T00:00:00Z');
    test = await startTestServer({ now: () => clock });
    pin = test.server.certificate.fingerprint;
    const { edgeId, secret } = await enrollAndConnect(test, 'edge-01', ACK_ALL_ACTIVE);
    const hello = async (secret: string): Promise<string> => {
      const edge = await FakeEdge.connect({ port: test.controlPort, pin });
      edge.hello(edgeId, secret, randomUUID());
      const reply = await edge.next('refused').catch(() => null);
      await edge.closed;
      return reply?.code ?? 'welcomed';
    };
    // Codes and secrets alike count: 10 bad codes, then 10 wrong secrets.
    for (let i = 0; i < 10; i++) {
      expect(await enrollEdge({ port: test.controlPort, pin }, `not-a-code-${i}-xxxxxxxx`)).toMatchObject({
        code: 'code_unknown',
      });
    }
    for (let i = 0; i < 10; i++) expect(await hello('sls_wrong')).toBe('secret_invalid');
    const auditRows = async () => (await test.request('GET', '/v1/audit?limit=100')).body.entries.length;
    const rowsAtLockout = await auditRows();
    // Locked out: even the right secret is refused now, and nothing more is audited.
    expect(await hello(secret)).toBe('rate_limited');
    expect(await enrollEdge({ port: test.controlPort, pin }, 'not-a-code-again-xxxxxxxx')).toMatchObject({
      code: 'rate_limited',
    });
    expect(await auditRows()).toBe(rowsAtLockout);
    const metrics = await test.server.metrics.registry.getSingleMetricAsString(
      'sluice_server_auth_failures_total',
    );
    expect(metrics).toContain('reason="code_unknown"} 10');
    expect(metrics).toContain('reason="secret_invalid"} 10');
    expect(metrics).toContain('reason="rate_limited"} 2');
    // A minute later the address may try again; one more failure locks it out for two.
    clock += 60_001;
    expect(await hello('sls_wrong')).toBe('secret_invalid');
    expect(await hello('sls_wrong')).toBe('rate_limited');
    clock += 60_001;
    expect(await hello('sls_wrong')).toBe('rate_limited');
    clock += 60_001;
    expect(await hello('sls_wrong')).toBe('secret_invalid');
  });
});

describe('hello', () => {
  it('welcomes an enrolled edge and pushes its full rule set', async () => {
    const { edge, edgeId } = await enrollAndConnect(test, 'edge-01', ACK_ALL_ACTIVE);
    const welcome = edge.received.find((m) => m.type === 'welcome');
    // One server: its own control address is the whole list.
    expect(welcome).toEqual({
      type: 'welcome',
      edgeId,
      name: 'edge-01',
      statsIntervalMs: 1000,
      servers: [{ host: test.server.advertise.host, port: test.server.advertise.port }],
    });
    const full = edge.received.find((m) => m.type === 'push');
    expect(full).toMatchObject({ full: true, upsert: [], remove: [] });
    expect((await test.request('GET', `/v1/edges/${edgeId}`)).body.connected).toBe(true);
    await edge.close();
    await until(() => !test.server.control.isConnected(edgeId));
  });

  it('refuses a wrong secret, an unknown edge, an old protocol and a revoked edge', async () => {
    const { edge, edgeId, secret } = await enrollAndConnect(test, 'edge-01', ACK_ALL_ACTIVE);
    const attempt = async (id: string, key: string, version = PROTOCOL_VERSION) => {
      const other = await FakeEdge.connect({ port: test.controlPort, pin });
      other.hello(id, key, randomUUID(), version);
      const reply = await other.next('refused');
      await other.closed;
      return reply.code;
    };
    expect(await attempt(edgeId, 'sls_wrong')).toBe('secret_invalid');
    // An unknown edge gets the same answer as a wrong secret; the metric tells them apart.
    expect(await attempt('e_000000000000', secret)).toBe('secret_invalid');
    expect(await attempt(edgeId, secret, PROTOCOL_VERSION + 1)).toBe('version_unsupported');
    // The refusals did not touch the live session.
    expect(edge.isClosed).toBe(false);

    const revoked = await test.request('POST', `/v1/edges/${edgeId}/revoke`);
    expect(revoked.body).toMatchObject({ revoked: true, connected: false });
    await edge.closed;
    expect(await attempt(edgeId, secret)).toBe('edge_revoked');
    const metrics = await test.server.metrics.registry.getSingleMetricAsString(
      'sluice_server_auth_failures_total',
    );
    expect(metrics).toContain('reason="secret_invalid"} 1');
    expect(metrics).toContain('reason="edge_unknown"} 1');
    expect(metrics).toContain('reason="edge_revoked"} 1');
  });

  it('keeps one session per edge: a new hello replaces the old session', async () => {
    const { edge, edgeId, secret } = await enrollAndConnect(test, 'edge-01', ACK_ALL_ACTIVE);
    const second = await connectWith(test, edgeId, secret, ACK_ALL_ACTIVE);
    await edge.closed;
    expect(second.isClosed).toBe(false);
    expect(test.server.control.connectedCount).toBe(1);
    await second.close();
  });
});

describe('push and ack', () => {
  it('pushes a rule, waits for the ack, and stores it active with its owner', async () => {
    const { edge } = await enrollAndConnect(test, 'edge-01', ACK_ALL_ACTIVE);
    const pushed = await test.request('POST', '/v1/rules', { edge: 'edge-01', rule: RULE });
    expect(pushed.status).toBe(201);
    expect(pushed.body).toMatchObject({
      owner: 'admin',
      name: 'web',
      revision: 1,
      state: 'active',
      edge: { name: 'edge-01' },
    });
    const push = edge.received.filter((m) => m.type === 'push').at(-1);
    expect(push).toMatchObject({
      full: false,
      remove: [],
      upsert: [{ id: pushed.body.id, revision: 1, owner: 'admin' }],
    });
    await edge.close();
  });

  it('a Failed ack is 422 activation_failed and leaves no rule behind', async () => {
    await enrollAndConnect(test, 'edge-01', (push) =>
      push.upsert.map((r) => ({
        ruleId: r.id,
        revision: r.revision,
        state: 'failed',
        code: 'port_in_use',
        message: 'held by nginx',
      })),
    );
    const pushed = await test.request('POST', '/v1/rules', { edge: 'edge-01', rule: RULE });
    expect(pushed.status).toBe(422);
    expect(pushed.body.error.code).toBe('activation_failed');
    expect(pushed.body.error.message).toMatch(/^port_in_use: .*held by nginx/);
    expect((await test.request('GET', '/v1/rules')).body.rules).toEqual([]);
  });

  it('no ack in time is 504 ack_timeout; the rule stays pending and is pushed again on reconnect', async () => {
    const { edge, edgeId, secret } = await enrollAndConnect(test, 'edge-01', null);
    const pushed = await test.request('POST', '/v1/rules', { edge: 'edge-01', rule: RULE });
    expect(pushed.status).toBe(504);
    expect(pushed.body.error.code).toBe('ack_timeout');
    const [rule] = (await test.request('GET', '/v1/rules')).body.rules;
    expect(rule).toMatchObject({ name: 'web', state: 'pending', revision: 1 });
    await edge.close();
    const again = await FakeEdge.connect({ port: test.controlPort, pin, ack: ACK_ALL_ACTIVE });
    again.hello(edgeId, secret);
    await again.next('welcome');
    const full = await again.next('push');
    expect(full).toMatchObject({ full: true, upsert: [{ id: rule.id, revision: 1 }] });
    await until(async () => (await test.server.store.rules.get(rule.id))?.state === 'active');
    await again.close();
  });

  it('an edge without a session is 422 client_not_connected and nothing is stored', async () => {
    await test.request('POST', '/v1/enrollments', { edge: 'edge-01' });
    const pushed = await test.request('POST', '/v1/rules', { edge: 'edge-01', rule: RULE });
    expect(pushed.status).toBe(422);
    expect(pushed.body.error.code).toBe('client_not_connected');
    expect(await test.server.store.rules.list()).toEqual([]);
  });

  it('updates in place at the next revision and removes with the edge acking', async () => {
    const { edge } = await enrollAndConnect(test, 'edge-01', ACK_ALL_ACTIVE);
    const pushed = await test.request('POST', '/v1/rules', { edge: 'edge-01', rule: RULE });
    const updated = await test.request('PUT', `/v1/rules/${pushed.body.id}`, {
      rule: { ...RULE, targets: ['127.0.0.1:18082'] },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({
      revision: 2,
      state: 'active',
      rule: { targets: ['127.0.0.1:18082'] },
    });
    const removed = await test.request('DELETE', `/v1/rules/${pushed.body.id}`);
    expect(removed.status).toBe(200);
    expect(removed.body.state).toBe('removed');
    const last = edge.received.filter((m) => m.type === 'push').at(-1);
    expect(last).toMatchObject({ upsert: [], remove: [pushed.body.id] });
    // The edge confirmed: the tombstone is gone.
    expect(await test.server.store.rules.get(pushed.body.id)).toBeNull();
    await edge.close();
  });

  it('a failed update puts the previous rule back', async () => {
    const { edge } = await enrollAndConnect(test, 'edge-01', ACK_ALL_ACTIVE);
    const pushed = await test.request('POST', '/v1/rules', { edge: 'edge-01', rule: RULE });
    edge.ack = (push) =>
      push.upsert.map((r) =>
        r.rule.listen === '127.0.0.1:18090'
          ? {
              ruleId: r.id,
              revision: r.revision,
              state: 'failed' as const,
              code: 'port_in_use',
              message: 'taken',
            }
          : { ruleId: r.id, revision: r.revision, state: 'active' as const },
      );
    const updated = await test.request('PUT', `/v1/rules/${pushed.body.id}`, {
      rule: { ...RULE, listen: '127.0.0.1:18090' },
    });
    expect(updated.status).toBe(422);
    expect(updated.body.error.code).toBe('activation_failed');
    await until(async () => (await test.server.store.rules.get(pushed.body.id))?.state === 'active');
    const rule = (await test.server.store.rules.get(pushed.body.id))!;
    expect(rule.body.listen).toBe(RULE.listen);
    expect(rule.revision).toBe(3);
    await edge.close();
  });

  it('removing a rule of an offline edge removes it from the store, and the edge on reconnect', async () => {
    const { edge, edgeId, secret } = await enrollAndConnect(test, 'edge-01', ACK_ALL_ACTIVE);
    const pushed = await test.request('POST', '/v1/rules', { edge: 'edge-01', rule: RULE });
    await edge.close();
    await until(() => !test.server.control.isConnected(edgeId));
    const removed = await test.request('DELETE', `/v1/rules/${pushed.body.id}`);
    expect(removed.status).toBe(200);
    expect(removed.body.state).toBe('removed');
    expect((await test.request('GET', '/v1/rules')).body.rules).toEqual([]);
    const again = await connectWith(test, edgeId, secret, ACK_ALL_ACTIVE);
    const full = again.received.find((m) => m.type === 'push');
    expect(full).toMatchObject({ full: true, upsert: [] });
    await until(async () => (await test.server.store.rules.get(pushed.body.id)) === null);
    await again.close();
  });
});

describe('stats', () => {
  it('keeps totals across edge restarts: deltas within a boot, re-baselined on a new bootId', async () => {
    const { edge, edgeId, secret } = await enrollAndConnect(test, 'edge-01', ACK_ALL_ACTIVE);
    const pushed = await test.request('POST', '/v1/rules', { edge: 'edge-01', rule: RULE });
    const ruleId = pushed.body.id;
    const report = (fake: FakeEdge, bootId: string, seq: number, bytesIn: number, connections: number) =>
      fake.send({
        type: 'stats',
        bootId,
        seq,
        rules: [
          {
            ...ZERO_COUNTERS,
            ruleId,
            bytesIn,
            bytesOut: bytesIn * 2,
            connectionsTotal: connections,
            activeConnections: 1,
          },
        ],
      });
    const stats = async () => (await test.request('GET', `/v1/rules/${ruleId}/stats`)).body;
    const bootA = randomUUID();
    report(edge, bootA, 1, 100, 1);
    await until(async () => (await test.server.store.stats.get(ruleId))?.bytesIn === 100);
    report(edge, bootA, 2, 250, 3);
    await until(async () => (await test.server.store.stats.get(ruleId))?.bytesIn === 250);
    await edge.close();
    // The edge restarted: its counters begin again at zero under a new bootId.
    const bootB = randomUUID();
    const restarted = await connectWith(test, edgeId, secret, ACK_ALL_ACTIVE, bootB);
    report(restarted, bootB, 1, 40, 1);
    await until(async () => (await test.server.store.stats.get(ruleId))?.bytesIn === 290);
    expect(await stats()).toMatchObject({
      rule: ruleId,
      bytesIn: 290,
      bytesOut: 580,
      connectionsTotal: 4,
      activeConnections: 1,
    });
    const metrics = await test.server.metrics.registry.getSingleMetricAsString('sluice_rule_bytes_in_total');
    expect(metrics).toContain('sluice_rule_bytes_in_total{client="edge-01",rule="web",owner="admin"} 290');
    await restarted.close();
  });

  it("folds a report longer than a slice whole, and takes a left-out rule's rate from the report before", async () => {
    await test.stop();
    let clock = 1_000_000;
    test = await startTestServer({ now: () => clock });
    pin = test.server.certificate.fingerprint;
    const { edge, edgeId } = await enrollAndConnect(test, 'edge-01', ACK_ALL_ACTIVE);
    const pushed = await test.request('POST', '/v1/rules', { edge: 'edge-01', rule: RULE });
    const ruleId = pushed.body.id;
    const reading = (bytesIn: number) => ({ ...ZERO_COUNTERS, ruleId, bytesIn });
    const report = (seq: number, rules: ReturnType<typeof reading>[]) =>
      edge.send({ type: 'stats', bootId: 'boot-1', seq, rules });
    // The event loop's turns, counted, and the turn each folded slice was published in.
    let turns = 0;
    let counting = true;
    const tick = () => {
      turns++;
      if (counting) setImmediate(tick);
    };
    setImmediate(tick);
    const publishedIn = new Set<number>();
    const unsubscribe = test.server.statsHub.subscribe(() => publishedIn.add(turns));
    // 1,200 readings of one rule in one report: folded in slices, each against the one before.
    report(
      1,
      Array.from({ length: 1200 }, (_, i) => reading(i + 1)),
    );
    await until(async () => (await test.server.store.stats.get(ruleId))?.bytesIn === 1200);
    counting = false;
    unsubscribe();
    // The slices were folded in turns of their own: a request could be served between them.
    expect(publishedIn.size).toBeGreaterThan(1);
    // A report that leaves the rule out: it had not moved.
    clock += 5000;
    report(2, []);
    await until(async () => (await test.server.store.edges.get(edgeId))?.lastSeenAt === clock);
    clock += 5000;
    report(3, [reading(11_200)]);
    await until(async () => (await test.server.store.stats.get(ruleId))?.bytesIn === 11_200);
    // 10,000 bytes since report 2, 5 s before: not spread over the 10 s since its own last report.
    expect(await test.server.store.stats.get(ruleId)).toMatchObject({ at: clock, bytesInPerSec: 2000 });
    await edge.close();
  });

  it('folds no more of a report once its session has ended', async () => {
    const { edge, edgeId } = await enrollAndConnect(test, 'edge-01', ACK_ALL_ACTIVE);
    const pushed = await test.request('POST', '/v1/rules', { edge: 'edge-01', rule: RULE });
    const ruleId = pushed.body.id;
    let published = 0;
    // The session ends as the first slice (100 readings, a record each) is folded, as when the server stops (its sessions
    // first, then the store): the slices after it are not folded into a store that may be closed.
    const unsubscribe = test.server.statsHub.subscribe(() => {
      if (published++ === 0) test.server.control.disconnect(edgeId, 'server_stopping');
    });
    edge.send({
      type: 'stats',
      bootId: 'boot-1',
      seq: 1,
      rules: Array.from({ length: 1200 }, (_, i) => ({ ...ZERO_COUNTERS, ruleId, bytesIn: i + 1 })),
    });
    await edge.closed;
    await until(() => published > 0);
    for (let turn = 0; turn < 20; turn++) await new Promise((resolve) => setImmediate(resolve));
    unsubscribe();
    expect(published).toBe(100);
    expect((await test.server.store.stats.get(ruleId))?.bytesIn).toBe(100);
  });

  it('streams stats as server-sent events', async () => {
    const { edge } = await enrollAndConnect(test, 'edge-01', ACK_ALL_ACTIVE);
    const pushed = await test.request('POST', '/v1/rules', { edge: 'edge-01', rule: RULE });
    const { port } = test.server.addresses.api;
    const controller = new AbortController();
    const response = await fetch(`http://127.0.0.1:${port}/v1/stats/stream?rule=${pushed.body.id}`, {
      headers: { authorization: `Bearer ${test.adminToken}` },
      signal: controller.signal,
    });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = response.body!.getReader();
    await until(() => test.server.statsHub.listeners === 1);
    edge.send({
      type: 'stats',
      bootId: 'boot-1',
      seq: 1,
      rules: [{ ...ZERO_COUNTERS, ruleId: pushed.body.id, bytesIn: 7, bytesOut: 9, connectionsTotal: 1 }],
    });
    let text = '';
    while (!text.includes('event: stats')) text += new TextDecoder().decode((await reader.read()).value);
    const data = JSON.parse(/data: (.*)\n/.exec(text)![1]!);
    expect(data).toMatchObject({ rule: pushed.body.id, bytesIn: 7, bytesOut: 9 });
    controller.abort();
    await edge.close();
  });
});

describe('session hygiene', () => {
  it('a malformed frame ends that session only', async () => {
    const one = await enrollAndConnect(test, 'edge-01', ACK_ALL_ACTIVE);
    const two = await enrollAndConnect(test, 'edge-02', ACK_ALL_ACTIVE);
    one.edge.send({ type: 'stats', bootId: 'b', seq: -1, rules: [] });
    await one.edge.closed;
    const bad = await FakeEdge.connect({ port: test.controlPort, pin });
    bad.sendRaw(Buffer.from([0, 0, 0, 3, 0x7b, 0x78, 0x7d]));
    await bad.closed;
    two.edge.send({ type: 'ping' });
    expect((await two.edge.next('pong')).type).toBe('pong');
    expect(test.server.control.isConnected(two.edgeId)).toBe(true);
    await two.edge.close();
  });

  it('refuses a hello whose strings carry control characters, before they reach a log message', async () => {
    for (const forged of [
      { edgeId: 'e_1\r\n{"level":30,"msg":"edge connected"}', bootId: 'b' },
      { edgeId: 'e_1', bootId: '\u001b[2J' },
    ]) {
      const stranger = await FakeEdge.connect({ port: test.controlPort, pin });
      stranger.send({
        type: 'hello',
        version: PROTOCOL_VERSION,
        secret: 's',
        capabilities: [],
        ruleCount: 0,
        ...forged,
      });
      await stranger.closed;
      expect(stranger.received).toEqual([]);
    }
    const enroller = await FakeEdge.connect({ port: test.controlPort, pin });
    enroller.send({ type: 'enroll', version: PROTOCOL_VERSION, code: 'abc', hostname: 'host\nINFO forged' });
    await enroller.closed;
    expect(enroller.received).toEqual([]);
  });

  it('caps frames at 8 KiB until the peer has authenticated, and lifts the cap after welcome', async () => {
    const stranger = await FakeEdge.connect({ port: test.controlPort, pin });
    const head = Buffer.alloc(4);
    head.writeUInt32BE(PRE_AUTH_MAX_FRAME_BYTES + 1);
    // Only the length: the server refuses the frame before any of its body arrives.
    stranger.sendRaw(head);
    await stranger.closed;
    const { edge, edgeId } = await enrollAndConnect(test, 'edge-01', ACK_ALL_ACTIVE);
    const pushed = await test.request('POST', '/v1/rules', { edge: 'edge-01', rule: RULE });
    expect(pushed.status).toBe(201);
    const rules = Array.from({ length: 200 }, () => ({
      ...ZERO_COUNTERS,
      ruleId: pushed.body.id,
      bytesIn: 1,
    }));
    const stats = { type: 'stats', bootId: 'boot-1', seq: 1, rules } as const;
    expect(JSON.stringify(stats).length).toBeGreaterThan(PRE_AUTH_MAX_FRAME_BYTES);
    edge.send(stats);
    edge.send({ type: 'ping' });
    expect((await edge.next('pong')).type).toBe('pong');
    expect(test.server.control.isConnected(edgeId)).toBe(true);
    await edge.close();
  });

  it('pings, and ends a session that stays silent', async () => {
    await test.stop();
    test = await startTestServer({ timings: { firstFrameMs: 1000, keepaliveMs: 50, silenceMs: 300 } });
    pin = test.server.certificate.fingerprint;
    const { edge, edgeId } = await enrollAndConnect(test, 'edge-01', ACK_ALL_ACTIVE);
    expect((await edge.next('ping')).type).toBe('ping');
    // The fake edge answers pings, so it stays; stop answering and it is dropped.
    edge.socket.removeAllListeners('data');
    await edge.closed;
    expect(test.server.control.isConnected(edgeId)).toBe(false);
  });
});

describe('connections that do not authenticate', () => {
  const rawConnect = (port: number, localAddress = '127.0.0.1'): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, localAddress }, () => resolve(socket));
      socket.once('error', reject);
    });
  const closed = (socket: Socket): Promise<void> =>
    new Promise((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));
  const cutCount = async (reason: string): Promise<number> => {
    const text = await test.server.metrics.registry.getSingleMetricAsString(
      'sluice_server_control_connections_cut_total',
    );
    return Number(new RegExp(`reason="${reason}"} (\\d+)`).exec(text)?.[1]);
  };

  it('are cut at the deadline: silent TCP, half a ClientHello, and TLS with no hello; a hello lifts it', async () => {
    await test.stop();
    test = await startTestServer({ pendingLimits: { deadlineMs: 400, perSource: 32, total: 512 } });
    pin = test.server.certificate.fingerprint;
    const { edge, edgeId } = await enrollAndConnect(test, 'edge-01', ACK_ALL_ACTIVE);
    const silent = await rawConnect(test.controlPort);
    const partial = await rawConnect(test.controlPort);
    partial.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])); // 6 bytes of a ClientHello
    const quiet = await FakeEdge.connect({ port: test.controlPort, pin });
    await Promise.all([closed(silent), closed(partial), quiet.closed]);
    expect(await cutCount('hello_timeout')).toBeGreaterThanOrEqual(2);
    // The edge that said hello is past its deadline and still served.
    edge.send({ type: 'ping' });
    expect((await edge.next('pong')).type).toBe('pong');
    expect(test.server.control.isConnected(edgeId)).toBe(true);
    await edge.close();
  });

  it('are capped per source address and in total; a cut connection frees its place', async () => {
    await test.stop();
    test = await startTestServer({ pendingLimits: { deadlineMs: 60_000, perSource: 3, total: 5 } });
    pin = test.server.certificate.fingerprint;
    const held = await Promise.all([1, 2, 3].map(() => rawConnect(test.controlPort)));
    const fourth = await rawConnect(test.controlPort);
    await closed(fourth);
    expect(await cutCount('source_cap')).toBe(1);
    const other = await Promise.all([1, 2].map(() => rawConnect(test.controlPort, '127.0.0.2')));
    const sixth = await rawConnect(test.controlPort, '127.0.0.3');
    await closed(sixth);
    expect(await cutCount('total_cap')).toBe(1);
    for (const socket of [...held, ...other]) socket.destroy();
    await Promise.all([...held, ...other].map(closed));
    // The places are free again: a real edge enrolls and says hello.
    await pollUntil(
      async () => {
        const probe = await rawConnect(test.controlPort);
        const open = await Promise.race([
          closed(probe).then(() => false),
          new Promise((r) => setTimeout(() => r(true), 100)),
        ]);
        probe.destroy();
        return open === true;
      },
      { timeoutMs: 3000, intervalMs: 50, what: 'a place is free' },
    );
    const { edge, edgeId } = await enrollAndConnect(test, 'edge-01', ACK_ALL_ACTIVE);
    expect(test.server.control.isConnected(edgeId)).toBe(true);
    await edge.close();
  });
});
