// The control session client against a fake server of our own (real TLS on 127.0.0.1, a
// self-signed certificate, packages/protocol frames), with a stub edge behind it.

import type { EventEmitter } from 'node:events';
import { PROTOCOL_VERSION, type RuleResult, type RuleStats } from '@sluice/protocol';
import {
  FakeControlServer,
  type FakeSession,
  freePort,
  makeCertificate,
  type TestCertificate,
  tcpRule,
} from '@sluice/test-kit';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Backoff } from './backoff.ts';
import {
  ControlClient,
  type ControlClientEvents,
  type ControlHandler,
  type PushMessage,
} from './control-client.ts';
import { capturingLogger, type LogLine } from './edge-test-support.fixture.ts';

let certificate: TestCertificate;
let server: FakeControlServer;
let client: ControlClient | null = null;
let logs: LogLine[];

beforeAll(() => {
  certificate = makeCertificate();
});
beforeEach(async () => {
  server = await FakeControlServer.start({ certificate, statsIntervalMs: 100 });
  logs = [];
});
afterEach(async () => {
  client?.stop();
  client = null;
  await server.close();
});

class StubEdge implements ControlHandler {
  rules: RuleResult[] = [];
  pushes: PushMessage[] = [];
  stats: () => RuleStats[] = () => [
    {
      ruleId: 'r1',
      bytesIn: 10,
      bytesOut: 20,
      connectionsTotal: 1,
      activeConnections: 0,
      rejected: 0,
      connectErrors: 0,
    },
  ];
  /** Lets a test hold a push's apply open. */
  gate: Promise<void> = Promise.resolve();
  private readonly pushWaiters: { count: number; resolve: () => void }[] = [];
  ruleCount(): number {
    return this.rules.length;
  }
  /** Resolves once the client has handed this edge `count` pushes. */
  received(count: number): Promise<void> {
    if (this.pushes.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.pushWaiters.push({ count, resolve }));
  }
  async push(push: PushMessage): Promise<RuleResult[]> {
    this.pushes.push(push);
    for (const waiter of this.pushWaiters.filter((w) => this.pushes.length >= w.count)) waiter.resolve();
    await this.gate;
    return push.upsert.map((rule) => ({
      ruleId: rule.id,
      revision: rule.revision,
      state: 'active' as const,
    }));
  }
}

function startClient(
  edge: ControlHandler,
  options: {
    pin?: string;
    silenceTimeoutMs?: number;
    pingIntervalMs?: number;
    maxMs?: number;
    backoff?: Backoff;
    servers?: { host: string; port: number }[];
  } = {},
): ControlClient {
  client = new ControlClient({
    servers: options.servers ?? [{ host: '127.0.0.1', port: server.port }],
    pin: options.pin ?? server.pin,
    edgeId: 'edge-1',
    secret: 'the-secret',
    bootId: 'boot-1',
    capabilities: ['tcp', 'udp'],
    handler: edge,
    log: capturingLogger(logs),
    backoff: options.backoff ?? new Backoff({ minMs: 20, maxMs: options.maxMs ?? 200 }),
    silenceTimeoutMs: options.silenceTimeoutMs ?? 5_000,
    pingIntervalMs: options.pingIntervalMs ?? 1_000,
  });
  client.start();
  return client;
}

/** A Backoff that counts how often the client asked it for a wait: once per retry it schedules. */
class CountingBackoff extends Backoff {
  asked = 0;
  override next(): number {
    this.asked++;
    return super.next();
  }
  override atMax(): number {
    this.asked++;
    return super.atMax();
  }
}

/**
 * Pings the edge from the session and waits for its pong: whatever the edge sent on this session
 * before answering has arrived by then (one TLS stream keeps the order).
 */
async function roundTrip(session: FakeSession): Promise<void> {
  const pongs = (): number => session.messages.filter((m) => m.type === 'pong').length;
  const before = pongs();
  session.send({ type: 'ping' });
  await session.waitFor('pong', () => pongs() > before);
}

function nextEvent<K extends keyof ControlClientEvents>(
  emitter: ControlClient,
  event: K,
  timeoutMs = 10_000,
): Promise<ControlClientEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no ${String(event)} event within ${timeoutMs} ms`)),
      timeoutMs,
    );
    (emitter as EventEmitter).once(event, (...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args as ControlClientEvents[K]);
    });
  });
}

describe('ControlClient', () => {
  it('says hello with its identity and rules, and is welcomed', async () => {
    const edge = new StubEdge();
    edge.rules = [{ ruleId: 'r1', revision: 2, state: 'active' }];
    const connected = nextEvent(startClient(edge), 'connected');
    const session = await server.nextSession(0);
    const hello = await session.waitFor('hello');
    expect(hello).toEqual({
      type: 'hello',
      version: PROTOCOL_VERSION,
      edgeId: 'edge-1',
      secret: 'the-secret',
      bootId: 'boot-1',
      capabilities: ['tcp', 'udp'],
      ruleCount: 1,
    });
    const [welcome] = await connected;
    expect(welcome.statsIntervalMs).toBe(100);
    expect(client!.connected).toBe(true);
    expect(logs).toContainEqual(expect.objectContaining({ msg: 'control connected', edge_id: 'edge-1' }));
  });

  it('answers each push with one ack, in the order the pushes came', async () => {
    const edge = new StubEdge();
    let open: () => void = () => {};
    edge.gate = new Promise((resolve) => {
      open = resolve;
    });
    const connected = nextEvent(startClient(edge), 'connected');
    const session = await server.nextSession(0);
    await connected;
    const first = session.push([tcpRule('a', 'a', 1001, 2001)], { full: true });
    const second = session.push([tcpRule('b', 'b', 1002, 2002, { revision: 5 })]);
    // The first push is held in its apply, so nothing may be acked yet.
    await edge.received(1);
    await roundTrip(session);
    expect(session.messages.filter((m) => m.type === 'ack')).toEqual([]);
    expect(edge.pushes.map((p) => p.pushId)).toEqual([1]);
    open();
    expect(await first).toEqual({
      type: 'ack',
      pushId: 1,
      results: [{ ruleId: 'a', revision: 1, state: 'active' }],
    });
    expect(await second).toEqual({
      type: 'ack',
      pushId: 2,
      results: [{ ruleId: 'b', revision: 5, state: 'active' }],
    });
    const acks = session.messages
      .filter((m) => m.type === 'ack')
      .map((m) => (m.type === 'ack' ? m.pushId : 0));
    expect(acks).toEqual([1, 2]);
    expect(edge.pushes.map((p) => p.pushId)).toEqual([1, 2]);
  });

  it('sends cumulative stats every statsIntervalMs with a growing seq, and answers ping', async () => {
    const edge = new StubEdge();
    startClient(edge);
    const session = await server.nextSession(0);
    await session.waitFor('stats', (s) => s.seq === 2, 5_000);
    const stats = session.messages.filter((m) => m.type === 'stats');
    expect(stats.map((s) => (s.type === 'stats' ? s.seq : -1))).toEqual([0, 1, 2]);
    expect(stats[0]).toEqual({ type: 'stats', bootId: 'boot-1', seq: 0, rules: edge.stats() });
    session.send({ type: 'ping' });
    await session.waitFor('pong');
  });

  it('reports every rule at first, then the rules that moved and, once more, those that stopped', async () => {
    const edge = new StubEdge();
    const reading = (ruleId: string, bytesIn: number, activeConnections = 0): RuleStats => ({
      ruleId,
      bytesIn,
      bytesOut: 0,
      connectionsTotal: 0,
      activeConnections,
      rejected: 0,
      connectErrors: 0,
    });
    // What the rules read at each report: r1 moves once, r2 only opens a connection, r3 never moves.
    const readings = [
      [reading('r1', 0), reading('r2', 0), reading('r3', 5)],
      [reading('r1', 100), reading('r2', 0), reading('r3', 5)],
      [reading('r1', 100), reading('r2', 0, 1), reading('r3', 5)],
      [reading('r1', 100), reading('r2', 0, 1), reading('r3', 5)],
      [reading('r1', 100), reading('r2', 0, 1), reading('r3', 5)],
    ];
    let report = 0;
    edge.stats = () => readings[Math.min(report++, readings.length - 1)]!;
    const c = startClient(edge);
    const session = await server.nextSession(0);
    await session.waitFor('stats', (s) => s.seq === 4, 5_000);
    const named = session.messages.flatMap((m) => (m.type === 'stats' ? [m.rules.map((r) => r.ruleId)] : []));
    // The first report is news to the server, so every rule is sent once more after it.
    expect(named.slice(0, 5)).toEqual([['r1', 'r2', 'r3'], ['r1', 'r2', 'r3'], ['r1', 'r2'], ['r2'], []]);
    const third = session.messages.find((m) => m.type === 'stats' && m.seq === 2);
    expect(third).toMatchObject({ rules: [reading('r1', 100), reading('r2', 0, 1)] });

    // A new session's first report names every rule again.
    session.drop();
    const next = await server.nextSession(1);
    await nextEvent(c, 'connected');
    const first = await next.waitFor('stats', () => true, 5_000);
    expect(first.rules.map((r) => r.ruleId)).toEqual(['r1', 'r2', 'r3']);
  });

  it('reconnects with backoff when the server drops the session, and while the server is away', async () => {
    const edge = new StubEdge();
    const c = startClient(edge);
    const first = await server.nextSession(0);
    await nextEvent(c, 'connected');
    edge.rules = [
      { ruleId: 'r9', revision: 1, state: 'active' },
      { ruleId: 'r2', revision: 1, state: 'active' },
    ];
    const dropped = nextEvent(c, 'disconnected');
    first.drop();
    const [info] = await dropped;
    expect(info).toMatchObject({ reason: 'server_closed', welcomed: true });
    expect(info.retryInMs).toBeGreaterThanOrEqual(20);
    expect(info.retryInMs).toBeLessThanOrEqual(40);
    const second = await server.nextSession(1);
    // The same process: the same bootId, and the rules it runs now.
    expect(await second.waitFor('hello')).toMatchObject({ bootId: 'boot-1', ruleCount: 2 });
    await nextEvent(c, 'connected');
    expect(logs).toContainEqual(
      expect.objectContaining({ msg: 'control disconnected', reason: 'server_closed' }),
    );

    // The server goes away altogether: every failed try waits longer, up to the cap.
    const waits: number[] = [];
    const failures = new Promise<void>((resolve) => {
      const onDisconnected = (event: ControlClientEvents['disconnected'][0]): void => {
        waits.push(event.retryInMs!);
        if (waits.length === 6) {
          c.off('disconnected', onDisconnected);
          resolve();
        }
      };
      c.on('disconnected', onDisconnected);
    });
    await server.close();
    await failures;
    expect(waits[0]).toBeLessThanOrEqual(40); // the session had been welcomed: from the start
    for (const wait of waits) expect(wait).toBeLessThanOrEqual(200);
    expect(waits[5]).toBeGreaterThanOrEqual(100);
    expect(logs).toContainEqual(
      expect.objectContaining({ msg: 'control connect failed', reason: 'server_unreachable' }),
    );

    await server.listen();
    const third = await server.nextSession(server.sessions.length);
    await third.waitFor('hello');
    await nextEvent(c, 'connected');
  });

  it('drops a silent session and reconnects', async () => {
    server.answerPings = false;
    const c = startClient(new StubEdge(), { silenceTimeoutMs: 300, pingIntervalMs: 50 });
    await server.nextSession(0);
    // Stats and pings go out, nothing comes back after welcome.
    const [info] = await nextEvent(c, 'disconnected', 5_000);
    expect(info.reason).toBe('silence');
    await server.nextSession(1);
  });

  it('a frame that does not validate ends the session with protocol_error', async () => {
    const c = startClient(new StubEdge());
    const session = await server.nextSession(0);
    await nextEvent(c, 'connected');
    const dropped = nextEvent(c, 'disconnected');
    session.socket.write(Buffer.from([0, 0, 0, 16, ...Buffer.from('{"type":"boom"} ')]));
    const [info] = await dropped;
    expect(info.reason).toBe('protocol_error');
    await server.nextSession(1);
  });

  it('a refused hello is retried at the longest backoff; edge_revoked stops for good', async () => {
    server.onHello = () => ({ type: 'refused', code: 'secret_invalid', message: 'no such secret' });
    const backoff = new CountingBackoff({ minMs: 20, maxMs: 400 });
    const c = startClient(new StubEdge(), { backoff });
    const [refused] = await nextEvent(c, 'refused');
    expect(refused).toEqual({ code: 'secret_invalid', message: 'no such secret' });
    const [info] = await nextEvent(c, 'disconnected');
    expect(info.retryInMs).toBeGreaterThanOrEqual(200);
    expect(logs).toContainEqual(
      expect.objectContaining({ msg: 'control refused', reason: 'secret_invalid', level: 50 }),
    );

    server.onHello = () => ({ type: 'refused', code: 'edge_revoked', message: 'revoked by admin' });
    // The refusal comes before the session ends: what the backoff was asked until then is
    // every retry scheduled before the revoke.
    let askedBeforeRevoke = -1;
    c.on('refused', (info) => {
      if (info.code === 'edge_revoked') askedBeforeRevoke = backoff.asked;
    });
    const disconnected: ControlClientEvents['disconnected'][0][] = [];
    c.on('disconnected', (info) => disconnected.push(info));
    const [revoked] = await nextEvent(c, 'revoked', 5_000);
    expect(revoked.code).toBe('edge_revoked');
    // No retry was scheduled: the backoff was not asked for a wait, and the end says so.
    expect(askedBeforeRevoke).toBeGreaterThan(0);
    expect(backoff.asked).toBe(askedBeforeRevoke);
    expect(disconnected.at(-1)).toMatchObject({ reason: 'edge_revoked', retryInMs: null });
    expect(c.connected).toBe(false);
  });

  it('a live session ended with refused edge_revoked stops the client too', async () => {
    const backoff = new CountingBackoff({ minMs: 20, maxMs: 200 });
    const c = startClient(new StubEdge(), { backoff });
    const session = await server.nextSession(0);
    await nextEvent(c, 'connected');
    const revoked = nextEvent(c, 'revoked');
    const disconnected = nextEvent(c, 'disconnected');
    session.send({ type: 'refused', code: 'edge_revoked', message: 'revoked just now' });
    expect((await revoked)[0].code).toBe('edge_revoked');
    // No retry was scheduled: the backoff was never asked for a wait, and the end says so.
    expect((await disconnected)[0]).toMatchObject({
      reason: 'edge_revoked',
      retryInMs: null,
      welcomed: true,
    });
    expect(backoff.asked).toBe(0);
    expect(server.sessions.length).toBe(1);
  });

  it('does not send a byte to a server whose certificate does not match the pin, and keeps trying', async () => {
    await server.close();
    server = await FakeControlServer.start({ certificate, maxVersion: 'TLSv1.2' });
    const wrongPin = makeCertificate().pin;
    const c = startClient(new StubEdge(), { pin: wrongPin });
    const [info] = await nextEvent(c, 'disconnected');
    expect(info.reason).toBe('pin_mismatch');
    expect(info.detail).toContain(server.pin);
    expect(info.detail).toContain(wrongPin);
    await nextEvent(c, 'disconnected');
    expect(server.sessions.length).toBeGreaterThanOrEqual(1);
    for (const session of server.sessions) {
      await session.ended;
      expect(session.bytesReceived).toBe(0);
    }
    expect(logs).toContainEqual(
      expect.objectContaining({ msg: 'control connect failed', reason: 'pin_mismatch', level: 50 }),
    );
  });

  it('an ack goes to the session its push came on, never to the next one', async () => {
    const edge = new StubEdge();
    let open: () => void = () => {};
    edge.gate = new Promise((resolve) => {
      open = resolve;
    });
    const c = startClient(edge);
    const first = await server.nextSession(0);
    await nextEvent(c, 'connected');
    void first.push([tcpRule('a', 'a', 1001, 2001)]).catch(() => {});
    await edge.received(1);
    first.drop();
    const second = await server.nextSession(1);
    await nextEvent(c, 'connected');
    open();
    const [acked] = await nextEvent(c, 'acked');
    expect(acked).toMatchObject({ pushId: 1, sent: false });
    await roundTrip(second);
    expect(second.messages.filter((m) => m.type === 'ack')).toEqual([]);
  });
});

describe('ControlClient over several replicas', () => {
  let second: FakeControlServer;
  beforeEach(async () => {
    // A replica: another listener, the same certificate (so the same pin).
    second = await FakeControlServer.start({ certificate, statsIntervalMs: 100 });
  });
  afterEach(async () => {
    client?.stop();
    await second.close();
  });
  const at = (port: number) => ({ host: '127.0.0.1', port });

  it('passes over a dead first address to the second at the first backoff step', async () => {
    const dead = await freePort();
    const c = startClient(new StubEdge(), { servers: [at(dead), at(second.port)] });
    const events: string[] = [];
    c.on('disconnected', (info) => events.push(`disconnected ${info.server}`));
    c.on('connected', () => events.push(`connected ${c.server}`));
    const [failed] = await nextEvent(c, 'disconnected');
    expect(failed).toMatchObject({
      reason: 'server_unreachable',
      server: `127.0.0.1:${dead}`,
      welcomed: false,
    });
    // The first wait of the backoff (min 20 ms here, 500 ms by default), not a longer one.
    expect(failed.retryInMs).toBeLessThanOrEqual(40);
    await nextEvent(c, 'connected');
    expect(c.address).toEqual(at(second.port));
    expect(events).toEqual([`disconnected 127.0.0.1:${dead}`, `connected 127.0.0.1:${second.port}`]);
    expect(second.sessions.length).toBe(1);
    expect(logs).toContainEqual(
      expect.objectContaining({
        msg: 'control connect failed',
        server: `127.0.0.1:${dead}`,
        next_server: `127.0.0.1:${second.port}`,
      }),
    );
    expect(logs).toContainEqual(
      expect.objectContaining({ msg: 'control connected', server: `127.0.0.1:${second.port}` }),
    );
  });

  it('moves to the next address when a session ends, and wraps around the list', async () => {
    const c = startClient(new StubEdge(), { servers: [at(server.port), at(second.port)] });
    const first = await server.nextSession(0);
    await nextEvent(c, 'connected');
    const dropped = nextEvent(c, 'disconnected');
    first.drop();
    const [info] = await dropped;
    expect(info).toMatchObject({ welcomed: true, server: `127.0.0.1:${server.port}` });
    expect(info.retryInMs).toBeLessThanOrEqual(40);
    // The first server still listens: the client left it because the session ended there.
    const onSecond = await second.nextSession(0);
    await nextEvent(c, 'connected');
    expect(c.address).toEqual(at(second.port));
    onSecond.drop();
    await server.nextSession(1);
    await nextEvent(c, 'connected');
    expect(c.address).toEqual(at(server.port));
    expect(second.sessions.length).toBe(1);
  });

  it('takes the replicas a welcome lists for the tries after it', async () => {
    // Enrolled with one address; the server names both replicas, itself last.
    server.onHello = (hello) => ({
      type: 'welcome',
      edgeId: hello.edgeId,
      name: 'edge-01',
      statsIntervalMs: 100,
      servers: [at(second.port), at(server.port)],
    });
    const c = startClient(new StubEdge(), { servers: [at(server.port)] });
    const first = await server.nextSession(0);
    await nextEvent(c, 'connected');
    expect(c.addresses).toEqual([at(second.port), at(server.port)]);
    expect(c.address).toEqual(at(server.port));
    first.drop();
    await second.nextSession(0);
    await nextEvent(c, 'connected');
    expect(c.address).toEqual(at(second.port));
    expect(c.addresses).toEqual([at(second.port), at(server.port)]);
  });

  it("a welcome that does not list the address it came on: the next try is the list's first, the bundle's address stays last", async () => {
    const third = await FakeControlServer.start({ certificate, statsIntervalMs: 100 });
    try {
      server.onHello = (hello) => ({
        type: 'welcome',
        edgeId: hello.edgeId,
        name: 'edge-01',
        statsIntervalMs: 100,
        servers: [at(second.port), at(third.port)],
      });
      const c = startClient(new StubEdge(), { servers: [at(server.port)] });
      const first = await server.nextSession(0);
      await nextEvent(c, 'connected');
      // A replica the welcome leaves out (down, or back at its old address later) is still tried.
      expect(c.addresses).toEqual([at(second.port), at(third.port), at(server.port)]);
      first.drop();
      await second.nextSession(0);
      await nextEvent(c, 'connected');
      expect(third.rawConnections).toBe(0);
      expect(server.sessions.length).toBe(1);
    } finally {
      client?.stop();
      await third.close();
    }
  });

  it('a revoke on one replica stops the client: no other replica is tried', async () => {
    server.onHello = () => ({ type: 'refused', code: 'edge_revoked', message: 'revoked' });
    const c = startClient(new StubEdge(), { servers: [at(server.port), at(second.port)] });
    const revoked = nextEvent(c, 'revoked');
    const [info] = await nextEvent(c, 'disconnected');
    await revoked;
    expect(info).toMatchObject({ reason: 'edge_revoked', retryInMs: null });
    expect(second.rawConnections).toBe(0);
  });
});
