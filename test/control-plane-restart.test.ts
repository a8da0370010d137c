// The control plane survives its processes dying: a SIGKILLed sluice-server does not stop the
// edges' traffic, and once restarted on the same data dir and ports the edges reconnect by
// themselves and the server's state agrees with what they run; a SIGKILLed edge restarted with
// its bundle gets its rules back from the server's full push. Stats come every second here
// (stats_interval_secs = 1) and add up across both kinds of restart.

import type net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePorts, pollUntil, withTimeout } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { type ApiClient, apiError, type RuleStats, tcpRule } from './helpers/api-client.ts';
import { runCleanup } from './helpers/cleanup.ts';
import { addEdge, restartServer, startControlPlane } from './helpers/control-plane.ts';
import { startCtl } from './helpers/ctl-process.ts';
import {
  edgeRuleStates,
  type ManagedEdgeHandle,
  pauseProcess,
  startManagedEdge,
} from './helpers/managed-edge-process.ts';
import type { Program } from './helpers/programs.ts';
import { expectStatsSteady } from './helpers/stats-steady.ts';
import { startEchoTarget } from './helpers/target-server.ts';
import { connectError, connectTcp, echoOnce, echoRoundTrip } from './helpers/tcp-client.ts';

afterEach(runCleanup);

const CONFIG = 'stats_interval_secs = 1\n';

/**
 * Waits until the server's totals of a rule are `bytes` each way, and stay so over the reports
 * after (a report counted twice would pass the first check and fail this one).
 */
async function statsReach(
  api: ApiClient,
  ruleId: string,
  bytes: number,
  timeoutMs = 5_000,
): Promise<RuleStats> {
  const reached = await pollUntil(
    async () => {
      const stats = await api.stats(ruleId);
      return stats.bytesIn === bytes && stats.bytesOut === bytes ? stats : undefined;
    },
    { timeoutMs, intervalMs: 100, what: `stats of rule ${ruleId} at ${bytes} bytes each way` },
  );
  await expectStatsSteady(
    async () => {
      const stats = await api.stats(ruleId);
      return { bytesIn: stats.bytesIn, bytesOut: stats.bytesOut };
    },
    { bytesIn: bytes, bytesOut: bytes },
    `rule ${ruleId}`,
  );
  return reached;
}

/**
 * Waits for the `count`th line (or later) of a `rule-stats --watch --format json` that matches:
 * the first line is the figures at the start, the others are stats events.
 */
function watchedLine(
  watch: Program,
  match: (stats: RuleStats) => boolean,
  count: number,
): Promise<RuleStats> {
  return pollUntil(
    () => {
      if (watch.gone()) throw new Error(`sluicectl exited early: ${watch.describe()}`);
      const lines = watch
        .stdout()
        .split('\n')
        .filter((line) => line !== '');
      return lines
        .slice(count - 1)
        .map((line) => JSON.parse(line) as RuleStats)
        .find(match);
    },
    { timeoutMs: 5_000, intervalMs: 100, what: `a matching stats line from ${watch.what}` },
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${watch.describe()}`);
  });
}

/** The rules the API has for an edge and the rules the edge runs, as sorted [name, state] pairs. */
async function apiAndEdge(api: ApiClient, name: string, edge: ManagedEdgeHandle) {
  const fromApi = (await api.rules(name)).map((rule) => [rule.name, rule.state]).sort();
  const onEdge = Object.entries(await edgeRuleStates(edge)).sort();
  return { fromApi, onEdge };
}

/** Counts what goes through a rule, so the stats can be checked to the byte. */
class Traffic {
  readonly port: number;
  bytes = 0;
  constructor(port: number) {
    this.port = port;
  }
  async roundTrip(message: string): Promise<void> {
    await echoRoundTrip(this.port, message);
    this.bytes += Buffer.byteLength(message);
  }
  async on(socket: net.Socket, message: string): Promise<void> {
    await echoOnce(socket, message);
    this.bytes += Buffer.byteLength(message);
  }
}

describe('control plane restarts', () => {
  it('server SIGKILLed: edges keep relaying; restarted on the same data dir and ports, they reconnect and agree', async () => {
    const plane = await startControlPlane({ configToml: CONFIG });
    const { api } = plane;
    const edgeA = await addEdge(plane, 'edge-a');
    const edgeB = await addEdge(plane, 'edge-b', 'ctl');
    const target = await startEchoTarget();
    const [portA, portA2, portB] = await freePorts(3);
    const webA = await api.pushActive('edge-a', tcpRule('web-a', portA!, target.port));
    const apiA = await api.pushActive('edge-a', tcpRule('api-a', portA2!, target.port));
    const webB = await api.pushActive('edge-b', tcpRule('web-b', portB!, target.port));
    const trafficA = new Traffic(portA!);
    const trafficB = new Traffic(portB!);
    await trafficA.roundTrip('before the crash, A');
    await trafficB.roundTrip('before the crash, B');
    await statsReach(api, webA.id, trafficA.bytes);
    // A sluicectl watching the rule's stats: a line per report of the edge that names it (the
    // reports name a rule when its counts move).
    const watching = startCtl(plane.ctl, ['rule-stats', webA.id, '--watch', '--format', 'json']);
    // Its first line (the figures at the start) is printed once its stream is open: traffic
    // from then on comes as an event line, where traffic sent earlier might be only in that
    // first line.
    await watchedLine(watching, () => true, 1);
    await trafficA.roundTrip('watched, A');
    await watchedLine(watching, (stats) => stats.at !== null && stats.bytesIn === trafficA.bytes, 2);
    // Connections open across the whole outage (their bytes count when they close: an open
    // connection's counters advance every 64 KiB, docs/metrics.md).
    const openA = await connectTcp(portA!);
    const openB = await connectTcp(portB!);
    await trafficA.on(openA, 'open A');
    await trafficB.on(openB, 'open B');

    const markA = edgeA.process.mark();
    const markB = edgeB.process.mark();
    expect(await plane.server.kill()).toEqual({ code: null, signal: 'SIGKILL' });
    // The server took the stream with it: the watch ends with stream_closed.
    expect(await withTimeout(watching.exited, 5_000, 'sluicectl --watch to exit')).toEqual({
      code: 7,
      signal: null,
    });
    expect(watching.stderr()).toMatch(/^stream_closed: /);
    await edgeA.process.waitForMsg('control disconnected', {}, 10_000, markA);
    await edgeB.process.waitForMsg('control disconnected', {}, 10_000, markB);

    // The data plane does not notice: new connections and open ones, for as long as both edges
    // take to fail two reconnects on their backoff (a second or more), not for a fixed time.
    const retriedTwice = (edge: ManagedEdgeHandle, from: number): boolean =>
      edge.process.logs.slice(from).filter((log) => log.msg === 'control connect failed').length >= 2;
    const deadline = Date.now() + 30_000;
    for (let i = 0; !(retriedTwice(edgeA, markA) && retriedTwice(edgeB, markB)); i++) {
      if (Date.now() > deadline) throw new Error('the edges did not retry twice within 30 s');
      await trafficA.roundTrip(`while the server is away ${i}`);
      await trafficB.roundTrip(`while the server is away ${i}`);
      await trafficA.on(openA, `open A ${i}`);
      await trafficB.on(openB, `open B ${i}`);
      await echoRoundTrip(portA2!, `api-a ${i}`);
      await sleep(100); // pacing between rounds of traffic, not a wait for an event
    }
    expect(edgeA.process.exitStatus).toBeNull();
    expect(edgeB.process.exitStatus).toBeNull();
    const refused = await api.get('/healthz', { token: null }).then(
      () => 'answered',
      () => 'unreachable',
    );
    expect(refused).toBe('unreachable');

    // Back on the same data dir and ports: no new admin token, the old one works.
    const restartedAt = Date.now();
    const server = await restartServer(plane);
    expect(server.ports).toEqual(plane.server.ports);
    // Edges back within their backoff (at worst 15..30 s; after a short outage a few seconds).
    await Promise.all([api.waitConnected('edge-a', true, 35_000), api.waitConnected('edge-b', true, 35_000)]);
    const reconnectMs = Date.now() - restartedAt;
    expect(reconnectMs).toBeLessThan(35_000);
    expect(server.adminToken).toBeNull();
    // Each edge got the full push on its new session and acked it.
    await edgeA.process.waitForMsg('rules applied', { full: true, active: 2, removed: 0 }, 10_000, markA);
    await edgeB.process.waitForMsg('rules applied', { full: true, active: 1, removed: 0 }, 10_000, markB);

    // The server's view and the edges' agree: the same rules, all active, nothing new.
    for (const [name, edge] of [
      ['edge-a', edgeA],
      ['edge-b', edgeB],
    ] as const) {
      const { fromApi, onEdge } = await apiAndEdge(api, name, edge);
      expect(onEdge, name).toEqual(fromApi);
      expect(
        fromApi.every(([, state]) => state === 'active'),
        name,
      ).toBe(true);
    }
    expect((await api.rules()).map((r) => [r.id, r.revision, r.state])).toEqual([
      [apiA.id, 1, 'active'],
      [webA.id, 1, 'active'],
      [webB.id, 1, 'active'],
    ]);
    expect((await api.edges()).map((e) => [e.name, e.connected, e.rules])).toEqual([
      ['edge-a', true, 2],
      ['edge-b', true, 1],
    ]);

    // Traffic, the open connections, and the new session carrying a new push.
    await trafficA.roundTrip('after the restart, A');
    await trafficB.on(openB, 'after the restart, open B');
    const [portB2] = await freePorts(1);
    await api.pushActive('edge-b', tcpRule('new-b', portB2!, target.port));
    await echoRoundTrip(portB2!, 'pushed after the restart');

    // Nothing went uncounted: bytes relayed while the server was away are in the totals.
    openA.destroy();
    openB.destroy();
    await statsReach(api, webA.id, trafficA.bytes);
    await statsReach(api, webB.id, trafficB.bytes);
    // The stream works on the new server too; Ctrl-C ends the watch with exit code 0.
    const again = startCtl(plane.ctl, ['rule-stats', webA.id, '--watch', '--format', 'json']);
    await trafficA.roundTrip('watched again, A');
    await watchedLine(again, (stats) => stats.bytesIn === trafficA.bytes, 2);
    again.child.kill('SIGINT');
    expect(await withTimeout(again.exited, 5_000, 'sluicectl --watch to exit')).toEqual({
      code: 0,
      signal: null,
    });
  });

  it('edge SIGKILLed and restarted with its bundle gets its rules back from the full push, an unacked one too', async () => {
    const plane = await startControlPlane({ configToml: CONFIG });
    const { api } = plane;
    const edgeA = await addEdge(plane, 'edge-a');
    const edgeB = await addEdge(plane, 'edge-b');
    const target = await startEchoTarget();
    const [portA, portA2, portB] = await freePorts(3);
    const webA = await api.pushActive('edge-a', tcpRule('web-a', portA!, target.port));
    const apiA = await api.pushActive('edge-a', tcpRule('api-a', portA2!, target.port));
    await api.pushActive('edge-b', tcpRule('web-b', portB!, target.port));
    const trafficA = new Traffic(portA!);
    await trafficA.roundTrip('before the edge dies');
    await statsReach(api, webA.id, trafficA.bytes);

    // The edge stalls with a push unread and dies before it acks: 504, the rule stays pending.
    const [slowPort] = await freePorts(1);
    pauseProcess(edgeA.process);
    const stalled = api.pushRule('edge-a', tcpRule('slow', slowPort!, target.port));
    // The server stores the rule pending and writes its push in one go: once the API lists it,
    // the push is on its way to the stalled edge.
    await pollUntil(async () => (await api.rules('edge-a')).some((rule) => rule.name === 'slow'), {
      timeoutMs: 10_000,
      what: 'the server to store the rule and push it',
    });
    await edgeA.process.kill();
    expect(edgeA.process.exitStatus).toEqual({ code: null, signal: 'SIGKILL' });
    const unacked = await stalled;
    expect(unacked.status, unacked.text).toBe(504);
    expect(apiError(unacked).code).toBe('ack_timeout');
    expect(apiError(unacked).message).toContain('pending');
    const slow = (await api.rules('edge-a')).find((r) => r.name === 'slow');
    expect(slow).toMatchObject({ state: 'pending' });
    await api.waitConnected('edge-a', false);
    expect(await connectError(portA!)).toBe('ECONNREFUSED');
    // The server keeps the rules; only the edge is gone. Edge B does not care.
    expect((await api.rules('edge-a')).map((r) => [r.name, r.state])).toEqual([
      ['api-a', 'active'],
      ['slow', 'pending'],
      ['web-a', 'active'],
    ]);
    await echoRoundTrip(portB!, 'edge B meanwhile');
    expect(await edgeRuleStates(edgeB)).toEqual({ 'web-b': 'active' });
    expect(await api.edge('edge-b')).toMatchObject({ connected: true });

    // A new process from the same bundle: it counts on under the boot id of its state file (so
    // nothing is counted twice), and the full push brings the rules back, the unacked one too.
    const again = await startManagedEdge(edgeA.bundle, { metricsPort: edgeA.metricsPort });
    const hello = await again.process.waitForMsg('edge ready', { mode: 'managed' });
    expect(hello.boot_id).toBe(edgeA.process.logs.find((log) => log.msg === 'edge ready')?.boot_id);
    await again.process.waitForMsg('rules applied', { full: true, active: 3 }, 10_000);
    await api.waitConnected('edge-a');
    expect(await edgeRuleStates(again)).toEqual({ 'api-a': 'active', slow: 'active', 'web-a': 'active' });
    await api.waitRuleState(slow!.id, 'active');
    await trafficA.roundTrip('after the edge came back');
    await echoRoundTrip(portA2!, 'api-a is back too');
    await echoRoundTrip(slowPort!, 'slow made it');
    expect((await api.rules('edge-a')).map((r) => [r.id, r.revision, r.state])).toEqual([
      [apiA.id, 1, 'active'],
      [slow!.id, 1, 'active'],
      [webA.id, 1, 'active'],
    ]);
    // Totals since the rule was made, across the edge's restart (its counters went on from the
    // state file, not from 0, and nothing was counted twice).
    const stats = await statsReach(api, webA.id, trafficA.bytes);
    expect(stats.connectionsTotal).toBe(2);
  });
});
