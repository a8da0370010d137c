// The relay under hostile sockets (issue 19), through a real edge on both relay paths, and a
// direct connection to the same target where the kernel's own behaviour is the yardstick:
// urgent data (MSG_OOB), a reset at each phase, a reader that never reads, a zero window that
// opens again, a half-closed slow reader, and the edge's descriptor limit reached under live
// connections. Each checks the bytes, how the pair closed (the edge's metrics), that the edge
// uses next to no CPU while the connections are parked (/proc/PID/stat: a spinning relay uses a
// whole core), and that its descriptors come back to their baseline.

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { freePort, pollUntil, requireProgram, UrgentPeer, withTimeout } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { deferCleanup, runCleanup } from './helpers/cleanup.ts';
import type { RuleConfig } from './helpers/edge-config.ts';
import { launchEdge } from './helpers/edge-fixture.ts';
import type { EdgeProcess } from './helpers/edge-process.ts';
import { poolAllowance, waitForFdBaseline } from './helpers/fd-baseline.ts';
import type { MetricsClient, RuleMetrics } from './helpers/metrics.ts';
import { type Digest, MIB, PayloadSink, sendPayload } from './helpers/payload.ts';
import { fdKinds } from './helpers/proc-stats.ts';
import { RELAY_PATHS, type RelayPath, splices } from './helpers/relay-paths.ts';
import { startTarget, type TargetServer } from './helpers/target-server.ts';
import { closed, connectTcp, echoOnce, echoRoundTrip } from './helpers/tcp-client.ts';

afterEach(runCleanup);

type Route = RelayPath | 'kernel';

const URGENT = 0x21; // '!': never among the ordinary bytes
/** CPU an edge may use while every connection is parked: generous, a spinning shard takes ~100 %. */
const IDLE_CPU_SHARE = 0.2;

/** Ordinary bytes, a-z repeating from `from`. */
function ordinary(length: number, from = 0): Buffer {
  return Buffer.from(Array.from({ length }, (_, i) => 0x61 + ((from + i) % 26)));
}

/** The soft and hard RLIMIT_NOFILE of a process, as prlimit takes them. */
function openFilesLimits(pid: number): [string, string] {
  const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
  const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(limits);
  if (match === null) throw new Error(`no "Max open files" in /proc/${pid}/limits`);
  return [match[1]!, match[2]!];
}

let clockTicks: number | null = null;

/** CPU `pid` (every thread) used over `ms` of wall time, as a fraction of one core. */
async function cpuShare(pid: number, ms = 1_000): Promise<number> {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());
  const ticks = (): number => {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  };
  const before = ticks();
  const start = performance.now();
  await new Promise((resolve) => setTimeout(resolve, ms));
  return (ticks() - before) / clockTicks / ((performance.now() - start) / 1000);
}

/** A target that records each connection's bytes and ends its side after the client's FIN. */
async function recordingTarget(): Promise<TargetServer & { bytes: (index: number) => Buffer }> {
  const received: Buffer[][] = [];
  const target = await startTarget(
    (socket, index) => {
      received[index] = [];
      socket.on('data', (chunk: Buffer) => received[index]!.push(chunk));
      socket.once('end', () => socket.end());
    },
    { allowHalfOpen: true },
  );
  return Object.assign(target, { bytes: (index: number) => Buffer.concat(received[index] ?? []) });
}

interface Edge {
  readonly edge: EdgeProcess;
  readonly metrics: MetricsClient;
  readonly ports: Record<string, number>;
}

/** One shard, one rule per `rules` entry (name -> target port, half-close timeout). */
async function startEdge(
  path: RelayPath,
  rules: Record<string, { target: number; halfCloseTimeoutSecs?: number }>,
): Promise<Edge> {
  const ports: Record<string, number> = {};
  const config: RuleConfig[] = [];
  for (const [name, rule] of Object.entries(rules)) {
    ports[name] = await freePort();
    config.push({
      name,
      listenPort: ports[name],
      targetPorts: [rule.target],
      ...(rule.halfCloseTimeoutSecs === undefined ? {} : { halfCloseTimeoutSecs: rule.halfCloseTimeoutSecs }),
    });
  }
  const { edge, metrics } = await launchEdge({ relayPath: path, config: { shards: 1, rules: config } });
  return { edge, metrics, ports };
}

function ruleMetrics(edge: Edge, rule: string): Promise<RuleMetrics> {
  return edge.metrics.rule(rule);
}

async function waitForNoConnections(edge: Edge, rule: string): Promise<RuleMetrics> {
  let last: RuleMetrics | undefined;
  await pollUntil(
    async () => {
      last = await ruleMetrics(edge, rule);
      return last.active_connections === 0;
    },
    { timeoutMs: 10_000, what: `rule ${rule} to have no connection left` },
  );
  return last!;
}

/** Where a client of `route` connects: the edge's rule, or the target itself. */
function portOf(route: Route, edge: Edge | null, rule: string, target: TargetServer): number {
  return route === 'kernel' ? target.port : edge!.ports[rule]!;
}

/** A warm-up round trip (pipes, lazily made handles), then the descriptors to come back to. */
async function baselineAfterWarmUp(edge: Edge, rule: string, echoPort?: number) {
  if (echoPort !== undefined) await echoRoundTrip(echoPort, 'warm');
  await waitForNoConnections(edge, rule);
  return fdKinds(edge.edge.pid);
}

function noRelayErrors(rule: RuleMetrics): void {
  expect(rule.relay_errors).toEqual({ client_reset: 0, upstream_reset: 0, error: 0, idle_timeout: 0 });
}

/** The four urgent-data clients: one urgent byte mid-stream, many, one at the end, one right before the FIN. */
async function urgentClients(port: number, target: TargetServer) {
  const peers = await Promise.all(Array.from({ length: 4 }, () => UrgentPeer.connect(port)));
  for (const peer of peers) deferCleanup(() => peer.close());
  await target.nextConnection(3);
  const [one, many, last, beforeFin] = peers as [UrgentPeer, UrgentPeer, UrgentPeer, UrgentPeer];
  // Each stream starts with a letter of its own: the target knows them apart by it.
  const parts = Array.from({ length: 10 }, (_, i) => ordinary(200 + i, 10 + i));
  // The order of accept is not the order of connect: a peer is known by its first bytes.
  await one.send(ordinary(3));
  await one.urgent(URGENT);
  await one.send(ordinary(3000, 3));
  for (const part of parts) {
    await many.send(part);
    await many.urgent(URGENT);
  }
  await last.send(ordinary(5000, 1));
  await last.urgent(URGENT);
  await beforeFin.send(ordinary(100, 2));
  await beforeFin.urgent(URGENT);
  await beforeFin.send(ordinary(100, 4));
  await beforeFin.shutdown();
  const expected = [
    Buffer.concat([ordinary(3), ordinary(3000, 3)]),
    Buffer.concat(parts),
    ordinary(5000, 1),
    Buffer.concat([ordinary(100, 2), ordinary(100, 4)]),
  ];
  return { peers, expected };
}

/** What each urgent client's bytes look like at the target, urgent bytes removed, in peer order. */
function ordinaryAtTarget(target: TargetServer & { bytes: (index: number) => Buffer }, expected: Buffer[]) {
  const streams = [0, 1, 2, 3].map((i) => target.bytes(i));
  return expected.map((want) => {
    const found = streams.find((got) => got[0] === want[0]);
    return found === undefined ? null : Buffer.from(found.filter((byte) => byte !== URGENT));
  });
}

describe.each([...RELAY_PATHS, 'kernel'] as const)('hostile sockets (%s)', (route) => {
  it('urgent bytes: every ordinary byte arrives, parked connections cost no CPU, FINs close cleanly', async () => {
    const target = await recordingTarget();
    const edge = route === 'kernel' ? null : await startEdge(route, { urgent: { target: target.port } });
    const baseline = edge === null ? null : await baselineAfterWarmUp(edge, 'urgent');
    const { peers, expected } = await urgentClients(portOf(route, edge, 'urgent', target), target);
    const wanted = expected.map((buffer) => buffer.length);
    // Everything ordinary arrives while three of the four hold their connection open.
    await pollUntil(
      () => {
        const got = ordinaryAtTarget(target, expected);
        return got.every((buffer, i) => buffer !== null && buffer.length >= wanted[i]!);
      },
      { timeoutMs: 5_000, what: `every ordinary byte at the target (want ${wanted})` },
    );
    expect(ordinaryAtTarget(target, expected)).toEqual(expected);
    if (edge !== null) expect(await cpuShare(edge.edge.pid)).toBeLessThan(IDLE_CPU_SHARE);
    for (const peer of peers.slice(0, 3)) await peer.shutdown();
    // Each gets its FIN back (the target ends after the client's), nothing more.
    expect(await Promise.all(peers.map((peer) => peer.drain()))).toEqual([0, 0, 0, 0]);
    expect(ordinaryAtTarget(target, expected)).toEqual(expected);
    if (edge === null) return;
    const rule = await waitForNoConnections(edge, 'urgent');
    noRelayErrors(rule);
    // The splice relay counts the urgent bytes it stepped over (at least the three lone ones);
    // the JS relay's reads skip them in the kernel and cannot see them.
    if (splices(route)) expect(rule.urgent_bytes).toBeGreaterThanOrEqual(3);
    else expect(rule.urgent_bytes).toBe(0);
    for (const peer of peers) await peer.close();
    await waitForFdBaseline(edge.edge.pid, baseline!, poolAllowance(1, 8));
  });

  it('a reset at each phase (before the first byte, mid-transfer, after a half-close) reaches the target as a reset', async () => {
    // The target never ends its side: after the client's FIN the pair stays half-open.
    const target = await startTarget((socket) => socket.resume(), { allowHalfOpen: true });
    const edge = route === 'kernel' ? null : await startEdge(route, { resets: { target: target.port } });
    const baseline = edge === null ? null : await baselineAfterWarmUp(edge, 'resets');
    const port = portOf(route, edge, 'resets', target);
    const outcomes: string[] = [];
    const phases = ['before first byte', 'mid-transfer', 'after half-close'] as const;
    for (const [index, phase] of phases.entries()) {
      const client = await connectTcp(port, { allowHalfOpen: true });
      const upstream = await withTimeout(target.nextConnection(index), 5_000, 'the target connection');
      let ended = false;
      upstream.on('end', () => {
        ended = true;
      });
      const error = new Promise<string>((resolve) =>
        upstream.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'EUNKNOWN')),
      );
      if (phase === 'mid-transfer') {
        void sendPayload(client, 'mid', 8 * MIB, { end: false }).catch(() => {});
        await pollUntil(() => upstream.bytesRead > 0, { timeoutMs: 5_000, what: 'bytes at the target' });
      }
      if (phase === 'after half-close') {
        client.end('bye');
        await pollUntil(() => ended, { timeoutMs: 5_000, what: 'the FIN at the target' });
      }
      client.resetAndDestroy();
      // A target that already read the FIN learns of the reset on its next write.
      const code = await pollUntil(
        async () => {
          if (!upstream.destroyed) upstream.write('x');
          return Promise.race([error, new Promise<false>((resolve) => setTimeout(() => resolve(false), 50))]);
        },
        { timeoutMs: 5_000, what: `the reset ${phase} at the target` },
      );
      outcomes.push(`${phase}: ${code}${ended && phase !== 'after half-close' ? ' after a clean end' : ''}`);
    }
    expect(outcomes).toEqual([
      expect.stringMatching(/^before first byte: (ECONNRESET|EPIPE)$/),
      expect.stringMatching(/^mid-transfer: (ECONNRESET|EPIPE)$/),
      expect.stringMatching(/^after half-close: (ECONNRESET|EPIPE)$/),
    ]);
    if (edge === null) return;
    const rule = await waitForNoConnections(edge, 'resets');
    expect(rule.relay_errors).toMatchObject({ client_reset: 3, idle_timeout: 0 });
    await waitForFdBaseline(edge.edge.pid, baseline!, poolAllowance(1, 2));
  });

  it('a reader that never reads, and one whose zero window opens later: parked at no CPU, the second gets every byte', async () => {
    // More than every buffer between target and client holds (socket buffers, one pipe).
    const SIZE = 64 * MIB;
    const sent: Promise<Digest>[] = [];
    const target = await startTarget((socket) => {
      sent.push(sendPayload(socket, `stall-${sent.length}`, SIZE));
    });
    const edge = route === 'kernel' ? null : await startEdge(route, { stall: { target: target.port } });
    const baseline = edge === null ? null : await baselineAfterWarmUp(edge, 'stall');
    const port = portOf(route, edge, 'stall', target);
    const never = await connectTcp(port);
    never.pause();
    await target.nextConnection(0);
    const zeroWindow = await connectTcp(port);
    zeroWindow.pause();
    const upstreams = [await target.nextConnection(0), await target.nextConnection(1)];
    // Both stall: every buffer on the way fills and the target waits for drain.
    await pollUntil(() => upstreams.every((socket) => socket.writableNeedDrain), {
      timeoutMs: 10_000,
      what: 'both targets to be held back',
    });
    if (edge !== null) expect(await cpuShare(edge.edge.pid)).toBeLessThan(IDLE_CPU_SHARE);
    const got = new PayloadSink(zeroWindow).done;
    expect(await withTimeout(got, 20_000, 'the zero-window reader')).toEqual(await sent[1]);
    // The one that never read goes away with unread bytes: a reset, passed on to the target.
    const targetError = new Promise<string>((resolve) =>
      upstreams[0]!.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? '')),
    );
    never.destroy();
    expect(await withTimeout(targetError, 5_000, 'the reset at the target')).toMatch(/^(ECONNRESET|EPIPE)$/);
    await expect(sent[0]).rejects.toThrow();
    if (edge === null) return;
    const rule = await waitForNoConnections(edge, 'stall');
    expect(rule.relay_errors).toMatchObject({ client_reset: 1, upstream_reset: 0, idle_timeout: 0 });
    await waitForFdBaseline(edge.edge.pid, baseline!, poolAllowance(1, 4));
  });

  it('a half-closed reader that stops reading past half_close_timeout gets every byte and a clean end', async () => {
    const SIZE = 8 * MIB;
    let answer: Promise<Digest> | undefined;
    const target = await startTarget(
      (socket) => {
        socket.resume();
        socket.once('end', () => {
          answer = sendPayload(socket, 'answer', SIZE);
        });
      },
      { allowHalfOpen: true },
    );
    const edge =
      route === 'kernel'
        ? null
        : await startEdge(route, { slow: { target: target.port, halfCloseTimeoutSecs: 1 } });
    const baseline = edge === null ? null : await baselineAfterWarmUp(edge, 'slow');
    const client = await connectTcp(portOf(route, edge, 'slow', target), { allowHalfOpen: true });
    client.pause();
    client.end('request');
    // Twice the timeout without reading, the answer piling up on the way.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const got = await withTimeout(new PayloadSink(client).done, 20_000, 'the answer');
    await pollUntil(() => answer, { timeoutMs: 1_000, what: 'the answer to have started' });
    expect(got).toEqual(await answer!);
    await closed(client, 5_000);
    if (edge === null) return;
    noRelayErrors(await waitForNoConnections(edge, 'slow'));
    await waitForFdBaseline(edge.edge.pid, baseline!, poolAllowance(1, 2));
  });
});

describe.each(RELAY_PATHS)('the fd limit under live connections (%s path)', (path) => {
  it('a flood of new connections at the limit loses no established connection', async () => {
    const LIVE = 20;
    const FLOOD = 60;
    const BULK = 32 * MIB;
    const echo = await startTarget((socket) => socket.pipe(socket));
    // Busy pairs whose target does not read: each holds a full pipe on the splice path, so the
    // thread's pool is empty and a waking idle pair has to create one.
    const busyTargets: Socket[] = [];
    const sink = await startTarget((socket) => {
      socket.pause();
      busyTargets.push(socket);
    });
    const edge = await startEdge(path, { live: { target: echo.port }, busy: { target: sink.port } });
    // Pipe ends the process holds for other things than splicing (stdio, libuv's own).
    const otherPipeEnds = fdKinds(edge.edge.pid).pipes;
    const baseline = await baselineAfterWarmUp(edge, 'live', edge.ports.live);
    const live = await Promise.all(Array.from({ length: LIVE }, () => connectTcp(edge.ports.live!)));
    for (const [i, socket] of live.entries()) await echoOnce(socket, `hello ${i}`);
    const pooled = (fdKinds(edge.edge.pid).pipes - otherPipeEnds) / 2;
    const busyCount = pooled + 1;
    const busy = await Promise.all(Array.from({ length: busyCount }, () => connectTcp(edge.ports.busy!)));
    const bulk = busy.map((socket, i) => sendPayload(socket, `bulk-${i}`, BULK));
    for (const sending of bulk) sending.catch(() => {}); // awaited below; a failed test must not add noise
    await pollUntil(() => busyTargets.length === busyCount, { timeoutMs: 5_000, what: 'the busy targets' });
    if (splices(path)) {
      await pollUntil(() => fdKinds(edge.edge.pid).pipes === otherPipeEnds + 2 * busyCount, {
        timeoutMs: 10_000,
        what: `every busy pair holding a pipe and none pooled (${busyCount} pipes)`,
      });
    }

    // No descriptor left: the flood takes what frees up, and every live pair's next bytes
    // arrive while the edge is at its limit.
    const prlimit = requireProgram('prlimit', 'util-linux');
    // RLIMIT_NOFILE bounds descriptor numbers, and a new one takes the lowest free number: a
    // limit at the lowest free number leaves none, whatever is open above it.
    const open = new Set(readdirSync(`/proc/${edge.edge.pid}/fd`).map(Number));
    let limit = 0;
    while (open.has(limit)) limit++;
    const [soft, hard] = openFilesLimits(edge.edge.pid);
    execFileSync(prlimit, ['--pid', String(edge.edge.pid), `--nofile=${limit}:${hard}`]);
    const flood = Array.from({ length: FLOOD }, () => {
      const socket = connect({ host: '127.0.0.1', port: edge.ports.live! });
      socket.on('error', () => {});
      deferCleanup(() => socket.destroy());
      return socket;
    });
    const replies = live.map((socket, i) => echoOnce(socket, `again ${i}`, 20_000).then(() => 'ok', String));
    // (No scrape now: the metrics server has no descriptor to take it with either.)
    expect(await cpuShare(edge.edge.pid)).toBeLessThan(IDLE_CPU_SHARE);
    for (const socket of flood) socket.destroy();
    execFileSync(prlimit, ['--pid', String(edge.edge.pid), `--nofile=${soft}:${hard}`]);
    for (const socket of busyTargets) socket.resume();
    // Every established connection is intact: its bytes went through, both ways.
    expect(await Promise.all(replies)).toEqual(Array(LIVE).fill('ok'));
    await Promise.all(bulk);
    const rule = await ruleMetrics(edge, 'live');
    noRelayErrors(rule);
    if (splices(path)) {
      expect(rule.pipe_waits).toBeGreaterThan(0);
      await edge.edge.waitForMsg(
        'relays waited for a pipe (out of descriptors or memory); their bytes wait in the sockets',
        { rule: 'live' },
        10_000,
      );
    }
    for (const socket of [...live, ...busy]) socket.destroy();
    await waitForNoConnections(edge, 'live');
    await waitForNoConnections(edge, 'busy');
    await waitForFdBaseline(edge.edge.pid, baseline, poolAllowance(1, 64));
  });
});
