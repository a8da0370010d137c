// The managed edge as an operator runs it: `sluice-edge enroll URI --bundle FILE`, then
// `sluice-edge --bundle FILE`, against a fake control server of the test's own (real TLS with a
// self-signed certificate, speaking packages/protocol). Rules arrive by push and carry traffic;
// the edge keeps forwarding while the server is away and reconciles on the next session.

import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  FakeControlServer,
  type FakeSession,
  freePort,
  freePorts,
  makeCertificate,
  tcpRule,
} from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { deferCleanup, runCleanup } from './helpers/cleanup.ts';
import { EDGE_MAIN, EdgeProcess, REPO_ROOT, runEdgeCommand } from './helpers/edge-process.ts';
import { MetricsClient } from './helpers/metrics.ts';
import { startEchoTarget } from './helpers/target-server.ts';
import { connectError, connectTcp, echoOnce, echoRoundTrip } from './helpers/tcp-client.ts';
import { makeTempDir } from './helpers/temp-dir.ts';

afterEach(runCleanup);

const CERTIFICATE = makeCertificate();

async function fakeServer(
  options: { statsIntervalMs?: number; maxVersion?: 'TLSv1.2' } = {},
): Promise<FakeControlServer> {
  const server = await FakeControlServer.start({ certificate: CERTIFICATE, ...options });
  deferCleanup(() => server.close());
  return server;
}

function enrollUri(server: FakeControlServer, pin = server.pin): string {
  return server.enrollUri('one-time-code-42', pin);
}

/** `sluice-edge --bundle FILE ...args` as a child process, ready when it logs "edge ready". */
async function startManagedEdge(bundleFile: string, args: string[] = []): Promise<EdgeProcess> {
  const child = spawn(process.execPath, [EDGE_MAIN, '--bundle', bundleFile, '--shards', '2', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, SLUICE_LOG_FORMAT: 'json' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const edge = new EdgeProcess(child);
  deferCleanup(() => edge.kill());
  await edge.waitForMsg('edge ready', { mode: 'managed' }, 20_000);
  return edge;
}

/** The JSON in `file` once it parses and `ready` holds of it (the edge writes it after a push). */
async function waitForJson(file: string, ready: (json: JsonValue) => boolean): Promise<JsonValue> {
  for (let tries = 0; tries < 200; tries++) {
    if (existsSync(file)) {
      const json = JSON.parse(readFileSync(file, 'utf8')) as JsonValue;
      if (ready(json)) return json;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${file} did not get what was waited for in 10 s`);
}

// biome-ignore lint/suspicious/noExplicitAny: a file's JSON, read field by field in the tests
type JsonValue = any;

async function enrolled(server: FakeControlServer): Promise<string> {
  const bundle = join(makeTempDir(), 'edge.bundle');
  const result = await runEdgeCommand(['enroll', enrollUri(server), '--bundle', bundle]);
  expect(result.code, result.stderr).toBe(0);
  return bundle;
}

describe('managed edge', () => {
  it('enrolls, runs pushed rules, keeps forwarding while the server is away, reconciles on reconnect', async () => {
    const server = await fakeServer({ statsIntervalMs: 200 });
    const dir = makeTempDir();
    const bundle = join(dir, 'edge.bundle');

    // enroll: the bundle at 0600, and the command to run next.
    const enroll = await runEdgeCommand(['enroll', enrollUri(server), '--bundle', bundle]);
    expect(enroll.code, enroll.stderr).toBe(0);
    expect(enroll.stdout).toContain(`bundle written to ${bundle} (mode 0600`);
    expect(enroll.stdout).toContain(`sluice-edge --bundle ${bundle}`);
    expect(statSync(bundle).mode & 0o777).toBe(0o600);
    expect(server.sessions[0]!.messages).toEqual([
      expect.objectContaining({ type: 'enroll', code: 'one-time-code-42' }),
    ]);

    // run managed: hello with no rules yet, then the server's full push.
    const metricsPort = await freePort();
    const edge = await startManagedEdge(bundle, ['--metrics', `127.0.0.1:${metricsPort}`]);
    const first = await server.nextSession(1);
    const hello = await first.waitFor('hello');
    expect(hello).toMatchObject({ edgeId: 'edge-1', secret: 's3cret-s3cret', ruleCount: 0 });
    expect(hello.capabilities).toEqual(
      expect.arrayContaining(['tcp', 'udp', 'sni', 'proxy_protocol', 'qos']),
    );
    await edge.waitForMsg('control connected', {}, 10_000);

    const target = await startEchoTarget();
    const [webPort, apiPort] = await freePorts(2);
    const ack = await first.push([tcpRule('r-web', 'web', webPort!, target.port, { revision: 4 })], {
      full: true,
    });
    expect(ack.results).toEqual([{ ruleId: 'r-web', revision: 4, state: 'active' }]);
    await edge.waitForMsg('rules applied', { push_id: 1 });
    await echoRoundTrip(webPort!, 'through the managed edge');
    const json = await new MetricsClient(metricsPort).json();
    expect(json.rules.find((r) => r.name === 'web')).toMatchObject({ state: 'active', owner: 'default' });

    // stats: cumulative per rule id, every statsIntervalMs.
    const stats = await first.waitFor('stats', (s) =>
      s.rules.some((r) => r.ruleId === 'r-web' && r.bytesIn >= 24),
    );
    expect(stats.bootId).toBe(hello.bootId);
    expect(stats.rules.find((r) => r.ruleId === 'r-web')).toMatchObject({
      bytesOut: 24,
      connectionsTotal: 1,
    });

    // The server goes away: traffic does not notice, old connections and new ones alike.
    const open = await connectTcp(webPort!);
    await echoOnce(open, 'before');
    await server.close();
    await edge.waitForMsg('control disconnected', { reason: 'server_closed' });
    for (let i = 0; i < 5; i++) await echoRoundTrip(webPort!, `while away ${i}`);
    await echoOnce(open, 'after');
    await edge.waitForMsg('control connect failed', { reason: 'server_unreachable' }, 10_000);

    // Back: hello says how many rules run; the full push reconciles (web gone, api new).
    await server.listen();
    const second = await server.nextSession(server.sessions.length);
    const helloAgain = await second.waitFor('hello');
    expect(helloAgain.bootId).toBe(hello.bootId);
    expect(helloAgain.ruleCount).toBe(1);
    const reconcile = await second.push([tcpRule('r-api', 'api', apiPort!, target.port)], { full: true });
    expect(reconcile.results).toEqual([
      { ruleId: 'r-api', revision: 1, state: 'active' },
      { ruleId: 'r-web', revision: 4, state: 'removed' },
    ]);
    await echoRoundTrip(apiPort!, 'api');
    expect(await connectError(webPort!)).toBe('ECONNREFUSED');
    const statsAgain = await second.waitFor('stats', (s) =>
      s.rules.some((r) => r.ruleId === 'r-api' && r.bytesIn >= 3),
    );
    expect(statsAgain.seq).toBeGreaterThan(stats.seq);
    open.destroy();

    // SIGTERM drains and exits 0.
    edge.signal('SIGTERM');
    expect(await edge.waitForExit(15_000)).toEqual({ code: 0, signal: null });
    await edge.waitForMsg('stopped');
  });

  it('restarted while the server is away, resumes its last applied rules; the next session reconciles them', async () => {
    const server = await fakeServer();
    const bundle = await enrolled(server);
    const rulesFile = `${bundle}.rules`;
    const target = await startEchoTarget();
    const [webPort, apiPort, newPort, extraPort] = await freePorts(4);
    const owners = { 'team-a': { bandwidth: '100Mbit' } };
    const edge = await startManagedEdge(bundle);
    const session = await server.nextSession(1);
    await session.waitFor('hello');
    await edge.waitForMsg('control connected', {}, 10_000);
    const ack = await session.push(
      [
        tcpRule('r-web', 'web', webPort!, target.port, { revision: 4, owner: 'team-a' }),
        tcpRule('r-api', 'api', apiPort!, target.port),
      ],
      { full: true, owners },
    );
    expect(ack.results.map((r) => r.state)).toEqual(['active', 'active']);
    // Saved after the push: the rules as pushed and the owners' tables, readable by the edge alone.
    const saved = await waitForJson(rulesFile, (json) => json.upsert?.length === 2);
    expect(saved).toMatchObject({ version: 1, edgeId: 'edge-1', owners });
    expect(saved.upsert.map((rule: { id: string }) => rule.id).sort()).toEqual(['r-api', 'r-web']);
    expect(statSync(rulesFile).mode & 0o777).toBe(0o600);
    // A push that is not full goes to the journal beside it, with what it added and removed.
    const change = await session.push([tcpRule('r-extra', 'extra', extraPort!, target.port)], {
      remove: ['r-api'],
    });
    expect(change.results.map((r) => r.state)).toEqual(['active', 'removed']);
    const journal = await waitForJson(`${rulesFile}.journal`, (json) => json.remove?.[0] === 'r-api');
    expect(journal).toMatchObject({ generation: saved.generation, seq: 1, remove: ['r-api'] });
    expect(journal.upsert.map((rule: { id: string }) => rule.id)).toEqual(['r-extra']);
    expect(statSync(`${rulesFile}.journal`).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(rulesFile, 'utf8'))).toEqual(saved);

    // The server goes; the edge is killed and started again: it forwards what it ran.
    await server.close();
    edge.signal('SIGKILL');
    await edge.waitForExit(15_000);
    const again = await startManagedEdge(bundle);
    expect(
      await again.waitForMsg(
        'rules resumed from the last applied set; the server reconciles them at the first session',
      ),
    ).toMatchObject({
      file: rulesFile,
      active: 2,
      failed: [],
    });
    await echoRoundTrip(webPort!, 'web, resumed with no server');
    await echoRoundTrip(extraPort!, 'extra, resumed from the journal with no server');
    expect(await connectError(apiPort!)).toBe('ECONNREFUSED');
    const open = await connectTcp(webPort!);
    await echoOnce(open, 'before the session');

    // The server is back with a changed set: web stays (its connection with it), extra goes, new comes.
    await server.listen();
    const second = await server.nextSession(server.sessions.length);
    expect((await second.waitFor('hello')).ruleCount).toBe(2);
    const reconcile = await second.push(
      [
        tcpRule('r-web', 'web', webPort!, target.port, { revision: 4, owner: 'team-a' }),
        tcpRule('r-new', 'new', newPort!, target.port),
      ],
      { full: true, owners },
    );
    expect(reconcile.results).toEqual([
      { ruleId: 'r-web', revision: 4, state: 'active' },
      { ruleId: 'r-new', revision: 1, state: 'active' },
      { ruleId: 'r-extra', revision: 1, state: 'removed' },
    ]);
    await echoOnce(open, 'after the session');
    open.destroy();
    expect(await connectError(extraPort!)).toBe('ECONNREFUSED');
    await echoRoundTrip(newPort!, 'new');
    const reconciled = await waitForJson(rulesFile, (json) =>
      json.upsert?.some((r: { id: string }) => r.id === 'r-new'),
    );
    expect(reconciled.upsert.map((rule: { id: string }) => rule.id).sort()).toEqual(['r-new', 'r-web']);
    again.signal('SIGTERM');
    expect((await again.waitForExit(15_000)).code).toBe(0);

    // A damaged file: one line naming it and why, and the edge starts with no rules.
    writeFileSync(rulesFile, '{"version": 1, "edgeId": "edge-1", "upsert": [');
    const damaged = await startManagedEdge(bundle);
    expect(
      await damaged.waitForMsg('applied rules not resumed: starting with none until the server pushes'),
    ).toMatchObject({
      reason: `${rulesFile}: not JSON`,
    });
    expect(await connectError(webPort!)).toBe('ECONNREFUSED');
  });

  it('a revoked edge removes its saved rules, so a restart does not bring them back', async () => {
    const server = await fakeServer();
    const bundle = await enrolled(server);
    const target = await startEchoTarget();
    const port = await freePort();
    const edge = await startManagedEdge(bundle);
    const session = await server.nextSession(1);
    await session.waitFor('hello');
    await edge.waitForMsg('control connected', {}, 10_000);
    await session.push([tcpRule('r-web', 'web', port, target.port)], { full: true });
    await waitForJson(`${bundle}.rules`, (json) => json.upsert?.length === 1);
    await server.close();
    edge.signal('SIGKILL');
    await edge.waitForExit(15_000);

    server.onHello = () => ({ type: 'refused', code: 'edge_revoked', message: 'revoked by admin' });
    await server.listen();
    const revoked = await startManagedEdge(bundle);
    // Resumed until the server says otherwise (traffic in that moment would race the revoke).
    expect(
      await revoked.waitForMsg(
        'rules resumed from the last applied set; the server reconciles them at the first session',
      ),
    ).toMatchObject({ active: 1 });
    expect(await revoked.waitForExit(15_000)).toEqual({ code: 5, signal: null });
    expect(existsSync(`${bundle}.rules`)).toBe(false);
  });

  it('acks a rule that cannot bind as failed port_in_use, an invalid one as rule_invalid', async () => {
    const server = await fakeServer();
    const bundle = await enrolled(server);
    await startManagedEdge(bundle);
    const session = await server.nextSession(1);
    await session.waitFor('hello');
    const target = await startEchoTarget();
    const held = await startEchoTarget();
    const free = await freePort();
    const ack = await session.push(
      [
        tcpRule('r-held', 'held', held.port, target.port),
        tcpRule('r-bad', 'bad', free, target.port, { rule: { protocol: 'sctp' } }),
        tcpRule('r-ok', 'ok', free, target.port),
      ],
      { full: true },
    );
    const byId = Object.fromEntries(ack.results.map((r) => [r.ruleId, r]));
    expect(byId['r-held']).toMatchObject({ state: 'failed', code: 'port_in_use' });
    expect(byId['r-bad']).toMatchObject({ state: 'failed', code: 'rule_invalid' });
    expect(byId['r-bad']!.message).toContain('protocol');
    expect(byId['r-ok']).toEqual({ ruleId: 'r-ok', revision: 1, state: 'active' });
    await echoRoundTrip(free, 'ok');
  });

  it('--max-rules sets how many rules can be active: one more is failed rule_capacity_exceeded', async () => {
    const server = await fakeServer();
    const bundle = await enrolled(server);
    await startManagedEdge(bundle, ['--max-rules', '2']);
    const session = await server.nextSession(1);
    await session.waitFor('hello');
    const target = await startEchoTarget();
    const [a, b, c] = await freePorts(3);
    const ack = await session.push(
      [
        tcpRule('r-a', 'a', a!, target.port),
        tcpRule('r-b', 'b', b!, target.port),
        tcpRule('r-c', 'c', c!, target.port),
      ],
      { full: true },
    );
    expect(ack.results.map((r) => `${r.ruleId} ${r.state} ${r.code ?? ''}`.trim())).toEqual([
      'r-a active',
      'r-b active',
      'r-c failed rule_capacity_exceeded',
    ]);
    await echoRoundTrip(b!, 'b');
  });

  it('a revoked edge drains and exits 5; refusals the server may lift are retried', async () => {
    const server = await fakeServer();
    const bundle = await enrolled(server);
    server.onHello = () => ({ type: 'refused', code: 'secret_invalid', message: 'unknown secret' });
    const edge = await startManagedEdge(bundle);
    const refusal = await edge.waitForMsg('control refused', { reason: 'secret_invalid' });
    // Retried, after the longest backoff (15..30 s); the edge runs on meanwhile.
    expect(refusal.retry_in_ms).toBeGreaterThanOrEqual(15_000);
    expect(refusal.retry_in_ms).toBeLessThanOrEqual(30_000);
    expect(edge.exitStatus).toBeNull();
    edge.signal('SIGTERM');
    expect((await edge.waitForExit(15_000)).code).toBe(0);

    server.onHello = () => ({ type: 'refused', code: 'edge_revoked', message: 'revoked by admin' });
    const revoked = await startManagedEdge(bundle);
    await revoked.waitForMsg('control refused', { reason: 'edge_revoked' });
    expect(await revoked.waitForExit(15_000)).toEqual({ code: 5, signal: null });
    await revoked.waitForMsg('stopped');
  });

  it('enroll: a wrong pin sends nothing and exits 3; a refused code exits 4 with the server code', async () => {
    const server = await fakeServer({ maxVersion: 'TLSv1.2' });
    const dir = makeTempDir();
    const bundle = join(dir, 'edge.bundle');
    const wrongPin = makeCertificate().pin;
    const wrong = await runEdgeCommand(['enroll', enrollUri(server, wrongPin), '--bundle', bundle]);
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toMatch(/^pin_mismatch: /);
    expect(wrong.stderr).toContain(server.pin);
    expect(wrong.stderr).toContain(wrongPin);
    const session: FakeSession = await server.nextSession(0);
    await session.ended;
    expect(session.bytesReceived).toBe(0);
    expect(existsSync(bundle)).toBe(false);

    server.onEnroll = () => ({ type: 'refused', code: 'code_expired', message: 'expired at 12:00' });
    const refused = await runEdgeCommand(['enroll', enrollUri(server), '--bundle', bundle]);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/^code_expired: .*expired at 12:00/);
    expect(existsSync(bundle)).toBe(false);

    const badUri = await runEdgeCommand([
      'enroll',
      'sluice://127.0.0.1:7443/enroll?code=abcdefgh',
      '--bundle',
      bundle,
    ]);
    expect(badUri.code).toBe(2);
    expect(badUri.stderr).toMatch(/^enroll_uri_invalid: .*pin/);
  });

  it('refuses a bundle that group or others can read', async () => {
    const server = await fakeServer();
    const bundle = await enrolled(server);
    chmodSync(bundle, 0o644);
    const result = await runEdgeCommand(['--bundle', bundle]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^bundle_insecure: .*mode 0644.*chmod 600/);
    expect(server.sessions.length).toBe(1);
  });
});
