// The control plane end to end: sluice-server and two managed edges as real processes (real TLS,
// real SQLite in a temp dir, loopback only). Edges enroll through the API and through sluicectl,
// rules pushed either way carry traffic, the API's refusals (offline edge, port clashes on the
// server and on the edge host, an edge that does not ack in time) change nothing they should
// not, malformed requests are refused, and a revoked edge is cut off and exits 5.

import { statSync } from 'node:fs';
import { PROTOCOL_VERSION } from '@sluice/protocol';
import { freePorts, pollUntil } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ApiResponse,
  apiError,
  type Edge,
  type Rule,
  type RuleStats,
  tcpRule,
} from './helpers/api-client.ts';
import { runCleanup } from './helpers/cleanup.ts';
import { addEdge, enrollmentViaApi, enrollmentViaCtl, startControlPlane } from './helpers/control-plane.ts';
import { ctlJson, runCtl } from './helpers/ctl-process.ts';
import { holdPort } from './helpers/foreign-listener.ts';
import {
  edgeRuleStates,
  enrollEdge,
  pauseProcess,
  startManagedEdge,
} from './helpers/managed-edge-process.ts';
import { findSamples, MetricsClient } from './helpers/metrics.ts';
import { startEchoTarget } from './helpers/target-server.ts';
import { connectError, echoRoundTrip } from './helpers/tcp-client.ts';

afterEach(runCleanup);

describe('control plane: server and two managed edges', () => {
  it('enrolls two edges (API and sluicectl), pushes rules to each (API and sluicectl), relays, reports stats', async () => {
    const plane = await startControlPlane();
    const { api } = plane;

    // Enroll: one code from the API, one from sluicectl; both redeemed by sluice-edge enroll.
    const codeA = await enrollmentViaApi(plane, 'edge-a');
    expect(codeA.uri).toMatch(
      new RegExp(`^sluice://127\\.0\\.0\\.1:${plane.server.ports.control}/enroll\\?pin=[0-9a-f]{64}&code=`),
    );
    expect(codeA.command).toContain(codeA.uri);
    const codeB = await enrollmentViaCtl(plane, 'edge-b');
    expect(codeB.edge.name).toBe('edge-b');
    const bundleA = await enrollEdge(codeA.uri, `${plane.dir}/a.bundle`);
    const bundleB = await enrollEdge(codeB.uri, `${plane.dir}/b.bundle`);
    expect(statSync(bundleA).mode & 0o777).toBe(0o600);
    expect(statSync(bundleB).mode & 0o777).toBe(0o600);
    const edgeA = await startManagedEdge(bundleA);
    const edgeB = await startManagedEdge(bundleB);
    await api.waitConnected('edge-a');
    await api.waitConnected('edge-b');
    const edges = await api.edges();
    expect(edges.map((e) => [e.name, e.connected, e.revoked, e.rules])).toEqual([
      ['edge-a', true, false, 0],
      ['edge-b', true, false, 0],
    ]);
    for (const edge of edges) {
      expect(edge.enrolledAt).not.toBeNull();
      expect(edge.lastSeenAt).not.toBeNull();
      expect(edge.version).toBe(PROTOCOL_VERSION);
    }
    const listedEdges = await ctlJson<{ edges: Edge[] }>(plane.ctl, ['edges']);
    expect(listedEdges.edges.map((e) => [e.id, e.connected])).toEqual(edges.map((e) => [e.id, true]));

    // A rule for edge A through the API: 201 active within the ack budget, then traffic.
    const target = await startEchoTarget();
    const [portA, portB] = await freePorts(2);
    const started = Date.now();
    const pushed = await api.pushRule('edge-a', tcpRule('web-a', portA!, target.port));
    expect(pushed.status, pushed.text).toBe(201);
    expect(Date.now() - started).toBeLessThan(2_000);
    const ruleA = pushed.body as Rule;
    expect(ruleA).toMatchObject({
      edge: { name: 'edge-a' },
      owner: 'admin',
      name: 'web-a',
      revision: 1,
      state: 'active',
      rule: { name: 'web-a', listen: `127.0.0.1:${portA}` },
    });
    const payloadA = 'through edge A, pushed with the API';
    await echoRoundTrip(portA!, payloadA);
    expect(await edgeRuleStates(edgeA)).toEqual({ 'web-a': 'active' });

    // A rule for edge B through sluicectl push-rule.
    const ruleB = await ctlJson<Rule>(plane.ctl, [
      'push-rule',
      'edge-b',
      `127.0.0.1:${portB}`,
      `127.0.0.1:${target.port}`,
      '--name',
      'web-b',
    ]);
    expect(ruleB).toMatchObject({ edge: { name: 'edge-b' }, name: 'web-b', state: 'active' });
    const table = await runCtl(plane.ctl, [
      'push-rule',
      'edge-b',
      `127.0.0.1:${portB}`,
      `127.0.0.1:${target.port}`,
    ]);
    // The same listen again: refused by the server, exit code of port_in_use.
    expect(table.code, table.stderr).toBe(14);
    expect(table.stderr).toMatch(/^port_in_use: /);
    const payloadB = 'through edge B, pushed with sluicectl!';
    await echoRoundTrip(portB!, payloadB);
    expect(await edgeRuleStates(edgeB)).toEqual({ 'web-b': 'active' });
    // Each edge runs only its own rule.
    expect(await edgeRuleStates(edgeA)).toEqual({ 'web-a': 'active' });

    // list-rules, both ways.
    const listed = await ctlJson<{ rules: Rule[] }>(plane.ctl, ['list-rules']);
    expect(listed.rules.map((r) => [r.edge.name, r.name, r.state])).toEqual([
      ['edge-a', 'web-a', 'active'],
      ['edge-b', 'web-b', 'active'],
    ]);
    const onlyB = await ctlJson<{ rules: Rule[] }>(plane.ctl, ['list-rules', '--edge', 'edge-b']);
    expect(onlyB.rules.map((r) => r.id)).toEqual([ruleB.id]);
    expect((await api.rules('edge-a')).map((r) => r.id)).toEqual([ruleA.id]);
    expect((await api.edges()).map((e) => e.rules)).toEqual([1, 1]);

    // Stats: the edges report every 5 s; the bytes are exactly what went through.
    const statsOf = async (id: string, bytes: number): Promise<RuleStats> =>
      pollUntil(
        async () => {
          const stats = await ctlJson<RuleStats>(plane.ctl, ['rule-stats', id]);
          return stats.bytesIn === bytes && stats.bytesOut === bytes ? stats : undefined;
        },
        { timeoutMs: 8_000, intervalMs: 250, what: `stats of ${id} with ${bytes} bytes each way` },
      );
    const [statsA, statsB] = await Promise.all([
      statsOf(ruleA.id, Buffer.byteLength(payloadA)),
      statsOf(ruleB.id, Buffer.byteLength(payloadB)),
    ]);
    expect(statsA).toMatchObject({ rule: ruleA.id, connectionsTotal: 1, activeConnections: 0, rejected: 0 });
    expect(statsA.at).not.toBeNull();
    expect(statsB).toMatchObject({ rule: ruleB.id, connectionsTotal: 1, connectErrors: 0 });
    expect(await api.stats(ruleA.id)).toMatchObject({ bytesIn: statsA.bytesIn, connectionsTotal: 1 });
    // The server's /metrics carries the same figures, labelled with edge, rule and owner.
    const samples = await new MetricsClient(plane.server.ports.metrics).samples();
    const labels = { client: 'edge-a', rule: 'web-a', owner: 'admin' };
    expect(findSamples(samples, 'sluice_rule_bytes_in_total', labels).map((m) => m.value)).toEqual([
      statsA.bytesIn,
    ]);
    expect(findSamples(samples, 'sluice_rule_bytes_out_total', labels).map((m) => m.value)).toEqual([
      statsA.bytesOut,
    ]);
    expect(findSamples(samples, 'sluice_server_edges_connected').map((m) => m.value)).toEqual([2]);
    expect(findSamples(samples, 'sluice_server_rules', { state: 'active' }).map((m) => m.value)).toEqual([2]);
    // Every push acked so far was timed: one full push per edge session, one change per rule
    // created (the refused one was never pushed).
    const acks = (kind: string): number[] =>
      findSamples(samples, 'sluice_server_push_ack_seconds_count', { kind }).map((m) => m.value);
    expect(acks('change')).toEqual([2]);
    expect(acks('full')[0]).toBeGreaterThanOrEqual(2);

    // sluicectl remove-rule: the edge stops listening once it acked, the rule is gone from the lists.
    const removed = await ctlJson<Rule>(plane.ctl, ['remove-rule', ruleB.id]);
    expect(removed).toMatchObject({ id: ruleB.id, state: 'removed' });
    expect(await connectError(portB!)).toBe('ECONNREFUSED');
    expect(await edgeRuleStates(edgeB)).toEqual({});
    expect((await api.rules()).map((r) => r.id)).toEqual([ruleA.id]);
    expect((await api.edges()).map((e) => e.rules)).toEqual([1, 0]);
    await echoRoundTrip(portA!, 'edge A is not concerned');
  });

  it('refuses pushes that cannot be honoured and leaves the store as it was; a late ack still lands', async () => {
    const plane = await startControlPlane();
    const { api } = plane;
    const edgeA = await addEdge(plane, 'edge-a');
    const edgeB = await addEdge(plane, 'edge-b');
    const target = await startEchoTarget();
    const [webPort, otherPort, heldPort, slowPort, laterPort] = await freePorts(5);
    const web = await api.pushActive('edge-a', tcpRule('web', webPort!, target.port));
    const snapshot = async () => (await api.rules()).map((r) => [r.id, r.name, r.revision, r.state]);
    const before = await snapshot();
    expect(before).toEqual([[web.id, 'web', 1, 'active']]);

    // A clash with a rule of the same edge: the listen (409 port_in_use), the name (409 name_taken).
    const clash = await api.pushRule('edge-a', tcpRule('web-2', webPort!, target.port));
    expect(clash.status, clash.text).toBe(409);
    expect(apiError(clash).code).toBe('port_in_use');
    expect(apiError(clash).message).toContain(`127.0.0.1:${webPort}`);
    const wildcard = await api.pushRule('edge-a', {
      ...tcpRule('web-any', webPort!, target.port),
      listen: `0.0.0.0:${webPort}`,
    });
    expect(wildcard.status, wildcard.text).toBe(409);
    expect(apiError(wildcard).code).toBe('port_in_use');
    const range = await api.pushRule('edge-a', {
      ...tcpRule('web-range', webPort!, target.port),
      listen: `127.0.0.1:${webPort! - 1}-${webPort! + 1}`,
    });
    expect(range.status, range.text).toBe(409);
    expect(apiError(range).code).toBe('port_in_use');
    const sameName = await api.pushRule('edge-a', tcpRule('web', otherPort!, target.port));
    expect(sameName.status, sameName.text).toBe(409);
    expect(apiError(sameName).code).toBe('name_taken');
    // The same name on the other edge is no clash (names are per edge).
    const onB = await api.pushActive('edge-b', tcpRule('web', otherPort!, target.port));
    await echoRoundTrip(otherPort!, 'edge B, its own port');

    // Another process holds the port on the edge host: the edge reports the rule failed.
    const holder = await holdPort(heldPort!, false);
    const held = await api.pushRule('edge-a', tcpRule('held', heldPort!, target.port));
    expect(held.status, held.text).toBe(422);
    expect(apiError(held).code).toBe('activation_failed');
    expect(apiError(held).message).toMatch(/^port_in_use: /);
    expect((await api.rules('edge-a')).map((r) => r.name)).toEqual(['web']);
    expect(await edgeRuleStates(edgeA)).toEqual({ web: 'active' });
    holder.child.kill('SIGKILL');
    await new Promise((resolve) => holder.child.once('exit', resolve));
    // Held with SO_REUSEPORT, as a second edge on the host would: still not the edge's to take.
    const sharer = await holdPort(heldPort!, true);
    const shared = await api.pushRule('edge-a', tcpRule('held', heldPort!, target.port));
    expect(shared.status, shared.text).toBe(422);
    expect(apiError(shared).message).toMatch(/^port_in_use: /);
    expect((await api.rules('edge-a')).map((r) => r.name)).toEqual(['web']);
    sharer.child.kill('SIGKILL');
    await new Promise((resolve) => sharer.child.once('exit', resolve));
    // Nothing was left behind: the same rule goes through once the port is free.
    const heldAgain = await api.pushActive('edge-a', tcpRule('held', heldPort!, target.port));
    await echoRoundTrip(heldPort!, 'held no more');
    const afterHeld = await snapshot();
    expect(afterHeld.map((r) => r[1])).toEqual(['held', 'web', 'web']);

    // An offline edge: 422 client_not_connected, nothing stored.
    await edgeB.process.kill();
    await api.waitConnected('edge-b', false);
    const offline = await api.pushRule('edge-b', tcpRule('later', laterPort!, target.port));
    expect(offline.status, offline.text).toBe(422);
    expect(apiError(offline).code).toBe('client_not_connected');
    expect(await snapshot()).toEqual(afterHeld);
    expect((await api.edge('edge-b')).rules).toBe(1);

    // An edge that does not answer: 504 ack_timeout after the 2 s budget, the rule stays pending.
    const resume = pauseProcess(edgeA.process);
    const started = Date.now();
    const stalled = await api.pushRule('edge-a', tcpRule('slow', slowPort!, target.port));
    const waited = Date.now() - started;
    expect(stalled.status, stalled.text).toBe(504);
    expect(apiError(stalled).code).toBe('ack_timeout');
    expect(waited).toBeGreaterThanOrEqual(1_900);
    expect(waited).toBeLessThan(6_000);
    const slow = (await api.rules('edge-a')).find((r) => r.name === 'slow');
    expect(slow).toMatchObject({ state: 'pending', revision: 1 });
    expect(await api.rule(slow!.id)).toMatchObject({ state: 'pending' });
    // The edge wakes up, applies the push it had not read, and its late ack makes the rule active.
    resume();
    await api.waitRuleState(slow!.id, 'active', 10_000);
    await echoRoundTrip(slowPort!, 'slow but there');
    await echoRoundTrip(webPort!, 'web still there');
    expect(await edgeRuleStates(edgeA)).toEqual({ held: 'active', slow: 'active', web: 'active' });
    expect(onB.state).toBe('active');
    expect(heldAgain.state).toBe('active');
  });

  it('refuses malformed requests with 400 bad_request and unauthenticated ones with 401, storing nothing', async () => {
    const plane = await startControlPlane();
    const { api } = plane;
    await addEdge(plane, 'edge-a');
    const [port] = await freePorts(1);
    const good = tcpRule('web', port!, 9);
    const badRequest = async (
      what: string,
      response: Promise<ApiResponse>,
      message: RegExp,
    ): Promise<void> => {
      const answered = await response;
      expect(answered.status, `${what}: ${answered.text}`).toBe(400);
      expect(apiError(answered).code, what).toBe('bad_request');
      expect(apiError(answered).message, what).toMatch(message);
    };
    await badRequest(
      'invalid JSON',
      api.post('/v1/rules', undefined, { rawBody: '{"edge": "edge-a", "rule": {' }),
      /JSON/,
    );
    await badRequest('empty JSON body', api.post('/v1/rules', undefined, { rawBody: '' }), /body/);
    await badRequest(
      'a form',
      api.post('/v1/rules', undefined, {
        rawBody: 'edge=edge-a',
        contentType: 'application/x-www-form-urlencoded',
      }),
      /content-type/,
    );
    await badRequest(
      'plain text',
      api.post('/v1/rules', undefined, { rawBody: 'edge=edge-a', contentType: 'text/plain' }),
      /^body: /,
    );
    await badRequest('a JSON array', api.post('/v1/rules', [good]), /body/);
    await badRequest('no rule', api.post('/v1/rules', { edge: 'edge-a' }), /rule/);
    await badRequest('unknown key', api.post('/v1/rules', { edge: 'edge-a', rule: good, extra: 1 }), /extra/);
    await badRequest(
      'listen out of range',
      api.pushRule('edge-a', { ...good, listen: '127.0.0.1:70000' }),
      /^rule\.listen: .*70000/,
    );
    await badRequest(
      'listen not host:port',
      api.pushRule('edge-a', { ...good, listen: 'nowhere' }),
      /^rule\.listen: /,
    );
    await badRequest(
      'unknown key in the rule',
      api.pushRule('edge-a', { ...good, colour: 'blue' }),
      /rule.*colour/,
    );
    await badRequest(
      'no targets',
      api.pushRule('edge-a', { name: 'web', listen: `127.0.0.1:${port}` }),
      /target/,
    );
    await badRequest(
      'rule not a table',
      api.pushRule('edge-a', 'web' as unknown as Record<string, unknown>),
      /^rule: /,
    );
    await badRequest('ttl too short', api.post('/v1/enrollments', { edge: 'edge-z', ttl: '30s' }), /^ttl: /);
    await badRequest(
      'ttl not a duration',
      api.post('/v1/enrollments', { edge: 'edge-z', ttl: 'soon' }),
      /^ttl: /,
    );
    await badRequest('bad edge name', api.post('/v1/enrollments', { edge: 'no spaces please' }), /^edge: /);
    const unknownEdge = await api.pushRule('edge-nope', good);
    expect(unknownEdge.status, unknownEdge.text).toBe(404);
    expect(apiError(unknownEdge).code).toBe('not_found');

    // No token, an unknown token, not a bearer token: 401, and nothing happens.
    for (const [what, token, headerless] of [
      ['no token', null, true],
      ['unknown token', 'slt_not-a-real-token', false],
    ] as const) {
      for (const [method, path, body] of [
        ['GET', '/v1/edges', undefined],
        ['GET', '/v1/rules', undefined],
        ['POST', '/v1/rules', { edge: 'edge-a', rule: good }],
        ['POST', '/v1/enrollments', { edge: 'edge-z' }],
        ['POST', '/v1/edges/edge-a/revoke', undefined],
      ] as const) {
        const response = await api.request(method, path, body, { token });
        expect(response.status, `${what} ${method} ${path}: ${response.text}`).toBe(401);
        expect(apiError(response).code).toBe('unauthorized');
        if (headerless) expect(apiError(response).message).toContain('Bearer');
      }
    }
    const basic = await fetch(`${api.baseUrl}/v1/edges`, {
      headers: { authorization: `Basic ${api.token}` },
    });
    expect(basic.status).toBe(401);
    const health = await api.get('/healthz', { token: null });
    expect(health).toMatchObject({ status: 200, body: { ok: true } });

    // Nothing was stored: no rule, no edge beyond edge-a, the edge runs nothing.
    expect(await api.rules()).toEqual([]);
    expect((await api.edges()).map((e) => [e.name, e.connected, e.revoked, e.rules])).toEqual([
      ['edge-a', true, false, 0],
    ]);
    expect(await connectError(port!)).toBe('ECONNREFUSED');
  });

  it('a revoked edge (sluicectl revoke) is cut off, stops relaying and exits 5; the other edge runs on', async () => {
    const plane = await startControlPlane();
    const { api } = plane;
    const edgeA = await addEdge(plane, 'edge-a', 'ctl');
    await addEdge(plane, 'edge-b');
    const target = await startEchoTarget();
    const [portA, portB, portC] = await freePorts(3);
    await api.pushActive('edge-a', tcpRule('web-a', portA!, target.port));
    await api.pushActive('edge-b', tcpRule('web-b', portB!, target.port));
    await echoRoundTrip(portA!, 'before the revoke');

    const revoked = await runCtl(plane.ctl, ['revoke', 'edge-a', '--format', 'json']);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(JSON.parse(revoked.stdout)).toMatchObject({ name: 'edge-a', revoked: true });
    const refusal = await edgeA.process.waitForMsg('control refused', { reason: 'edge_revoked' }, 10_000);
    expect(refusal.level).toBe(50);
    expect(await edgeA.process.waitForExit(15_000)).toEqual({ code: 5, signal: null });
    expect(edgeA.process.logs.some((log) => log.msg.startsWith('edge revoked'))).toBe(true);
    expect(await connectError(portA!)).toBe('ECONNREFUSED');

    expect(await api.edge('edge-a')).toMatchObject({ revoked: true, connected: false });
    const push = await api.pushRule('edge-a', tcpRule('web-c', portC!, target.port));
    expect(push.status, push.text).toBe(409);
    expect(apiError(push).code).toBe('edge_revoked');
    const ctlPush = await runCtl(plane.ctl, [
      'push-rule',
      'edge-a',
      `127.0.0.1:${portC}`,
      `127.0.0.1:${target.port}`,
    ]);
    expect(ctlPush.code).toBe(19);
    expect(ctlPush.stderr).toMatch(/^edge_revoked: /);

    // Edge B is untouched.
    expect(await api.edge('edge-b')).toMatchObject({ revoked: false, connected: true });
    await echoRoundTrip(portB!, 'edge B goes on');

    // Enrolled again, edge A is back with the rule it had.
    const back = await addEdge(plane, 'edge-a', 'ctl');
    expect(back.bundle).not.toBe(edgeA.bundle);
    expect(await api.edge('edge-a')).toMatchObject({ revoked: false, connected: true, rules: 1 });
    await back.process.waitForMsg('rules applied', { full: true, active: 1 });
    await echoRoundTrip(portA!, 'after enrolling again');
  });
});
