// An edge out of file descriptors: with its RLIMIT_NOFILE lowered (prlimit, util-linux) to a few
// descriptors above what it holds, connections fill it up until the next one cannot be taken
// in. That is counted in sluice_rule_accept_errors_total{reason="emfile"}, logged once for the
// burst (not once per connection), the target is not blamed for it, and the edge serves again
// as soon as connections close. A flood of twice what fits (arriving at once: the edge is stopped
// while the kernel queues it) is counted the same way, blames neither target of a failover pool,
// and leaves the edge relaying.
//
// Why the edge sees it after accept: libuv keeps a spare descriptor per loop and, on EMFILE,
// accepts and closes the waiting connections itself, so accept(2) failures rarely reach JS.
// The first descriptor a connection needs after accept, its upstream socket, fails instead;
// that is where the edge counts it. The limit leaves an odd number of descriptors free, so the
// connection that does not fit is always accepted and then finds no descriptor for its target.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readlinkSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { freePort, pollUntil, requireProgram } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { runCleanup } from './helpers/cleanup.ts';
import { launchEdge } from './helpers/edge-fixture.ts';
import { findSamples, parsePrometheus, type RuleMetrics } from './helpers/metrics.ts';
import { RELAY_PATHS } from './helpers/relay-paths.ts';
import { startEchoTarget, startTarget } from './helpers/target-server.ts';
import {
  closeAsTheyEnd,
  closed,
  connectTcp,
  echoRoundTrip,
  readExactly,
  type Sender,
  sendLine,
} from './helpers/tcp-client.ts';

afterEach(runCleanup);

/** Connections that fit under the lowered limit: each holds two descriptors (client, upstream). */
const FITTING = 3;
/** Connections tried once the edge is full; each must be refused and counted. */
const OVER = 4;

type AcceptMetrics = RuleMetrics & {
  readonly accept_errors: Readonly<Record<string, number>>;
  readonly failovers: number;
  readonly targets: readonly { readonly target: string; readonly up: boolean }[];
};

/**
 * The flooded edge starts with a soft descriptor limit below its hard one, which it runs with;
 * max_connections is set as high as that allows, so the flood meets the descriptor limit first.
 */
const FLOOD_NOFILE = { soft: 256, hard: 1024 };
const FLOOD_MAX_CONNECTIONS = 400;
/** Connections that fit under the limit the flood meets; the flood brings twice as many. */
const FLOOD_FITTING = 100;
const FLOOD = 2 * FLOOD_FITTING;

/** Lowers the edge's descriptor limit so that exactly `free` descriptor numbers are left. */
function leaveFreeDescriptors(pid: number, free: number): number {
  const prlimit = requireProgram('prlimit', 'util-linux');
  const fds = new Set(readdirSync(`/proc/${pid}/fd`).map(Number));
  // RLIMIT_NOFILE bounds descriptor numbers: a new descriptor takes the lowest free number
  // below the limit, so what is left is the free numbers below it.
  let limit = 0;
  for (let left = 0; left < free || fds.has(limit); limit++) if (!fds.has(limit)) left++;
  execFileSync(prlimit, ['--pid', String(pid), `--nofile=${limit}:${limit}`]);
  return limit;
}

/** Sockets among the process's descriptors. */
function socketCount(pid: number): number {
  let sockets = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) sockets++;
    } catch {
      // Closed between the listing and the read.
    }
  }
  return sockets;
}

describe.each(RELAY_PATHS)('accept errors (%s path)', (relayPath) => {
  it('counts and logs a connection it has no descriptor for, once per burst, and serves again once connections close', async () => {
    const target = await startTarget((socket) => socket.pipe(socket));
    const port = await freePort();
    const { edge, metrics } = await launchEdge({
      relayPath,
      config: { shards: 1, rules: [{ name: 'full', listenPort: port, targetPorts: [target.port] }] },
    });
    // One round trip first: everything the first connection opens lazily (in the shard, in the
    // addon) is open before the descriptors are counted.
    await echoRoundTrip(port, 'warm');
    await pollUntil(async () => (await metrics.rule('full')).active_connections === 0, {
      timeoutMs: 5_000,
      what: 'the warm-up connection to close',
    });
    // The count must not include sockets on their way out (the warm-up pair, the scrape): wait
    // until only stdout, stderr and the two listeners (metrics, rule) are sockets.
    await pollUntil(() => socketCount(edge.pid) === 4, {
      timeoutMs: 5_000,
      what: 'only the listening sockets left',
    });

    const limit = leaveFreeDescriptors(edge.pid, 2 * FITTING + 1);
    const from = edge.mark();
    const held: Socket[] = [];
    for (let i = 0; i < FITTING; i++) {
      held.push(await connectTcp(port));
      await target.nextConnection(1 + i);
    }
    // No descriptor left for the next connections' upstream sockets: each is reset.
    for (let i = 0; i < OVER; i++) {
      // The reset may come before or after the client sees its connect complete.
      const refused = connect({ host: '127.0.0.1', port });
      refused.on('error', () => {});
      await closed(refused, 5_000).catch((err: Error) => {
        const fds = execFileSync('ls', ['-l', `/proc/${edge.pid}/fd`]).toString();
        throw new Error(`${err.message} (attempt ${i}, limit ${limit})\n${edge.describe()}\n${fds}`);
      });
    }
    const logged = await edge.waitForMsg(
      'accept failed',
      { rule: 'full', reason: 'emfile', errno: 'EMFILE' },
      5_000,
      from,
    );
    expect(logged.listen).toBe(`127.0.0.1:${port}`);
    // The target never saw them, and is not held to blame.
    expect(target.accepted).toHaveLength(1 + FITTING);

    // Closing connections gives descriptors back: the edge serves again under the same limit.
    for (const socket of held) socket.destroy();
    await pollUntil(async () => (await metrics.rule('full')).active_connections === 0, {
      timeoutMs: 5_000,
      what: 'the held connections to close',
    });
    await echoRoundTrip(port, 'again');

    const rule = (await metrics.rule('full')) as AcceptMetrics;
    expect(rule.accept_errors).toEqual({ emfile: OVER, enfile: 0, enomem: 0, other: 0 });
    expect(rule.connect_errors).toEqual({ refused: 0, timeout: 0, unreachable: 0, reset: 0, other: 0 });
    expect(rule.failovers).toBe(0);
    expect(await metrics.text()).toMatch(
      new RegExp(`sluice_rule_accept_errors_total\\{[^}]*rule="full"[^}]*reason="emfile"[^}]*\\} ${OVER}`),
    );
    // One line for the burst: the first refusal; the rest are summed when the burst ends.
    const lines = edge.logs.slice(from).filter((log) => log.msg === 'accept failed');
    expect(lines).toHaveLength(1);
  });

  it('meets a flood past its descriptor limit: counts it as accept errors, never against the target, and relays again after', async () => {
    const first = await startEchoTarget();
    const second = await startEchoTarget();
    const port = await freePort();
    const { edge, metrics } = await launchEdge({
      relayPath,
      nofile: FLOOD_NOFILE,
      config: {
        shards: 1,
        maxConnections: FLOOD_MAX_CONNECTIONS,
        rules: [{ name: 'flood', listenPort: port, targetPorts: [first.port, second.port] }],
      },
    });
    // Node raised the soft limit to the hard one as the edge started; the edge says so once.
    const ready = edge.logs.find((line) => line.msg === 'edge ready');
    expect([ready?.nofile, ready?.nofile_hard]).toEqual([FLOOD_NOFILE.hard, FLOOD_NOFILE.hard]);
    expect(ready?.max_connections).toBe(FLOOD_MAX_CONNECTIONS);
    await echoRoundTrip(port, 'warm');
    await pollUntil(async () => (await metrics.rule('flood')).active_connections === 0, {
      timeoutMs: 5_000,
      what: 'the warm-up connection to close',
    });
    await pollUntil(() => socketCount(edge.pid) === 4, {
      timeoutMs: 5_000,
      what: 'only the listening sockets left',
    });
    // An odd number free, as above: the connection that does not fit is always taken in and then
    // finds no descriptor for its target, which the edge sees (libuv hides a failed accept).
    leaveFreeDescriptors(edge.pid, 2 * FLOOD_FITTING + 1);
    const from = edge.mark();
    // The flood arrives at once: while the edge is stopped the kernel completes every handshake
    // and queues the connections, and the edge finds them all waiting when it goes on.
    process.kill(edge.pid, 'SIGSTOP');
    let flood: Sender[];
    try {
      flood = await Promise.all(Array.from({ length: FLOOD }, (_, i) => sendLine(port, `flood ${i}`)));
    } finally {
      process.kill(edge.pid, 'SIGCONT');
    }
    await edge.waitForMsg(
      'accept failed',
      { rule: 'flood', reason: 'emfile', errno: 'EMFILE' },
      20_000,
      from,
    );
    // Connections that were relayed let go of their descriptors; the ones that waited (in the
    // backlog, on the native path) are relayed then. Every connection ends relayed or refused.
    await closeAsTheyEnd(flood, true, 'every connection of the flood relayed or refused');
    await pollUntil(async () => (await metrics.rule('flood')).active_connections === 0, {
      timeoutMs: 10_000,
      what: 'the flood to close',
    });

    const rule = (await metrics.rule('flood')) as AcceptMetrics;
    const emfile = rule.accept_errors.emfile ?? 0;
    expect(emfile).toBeGreaterThan(0);
    expect(rule.connect_errors).toEqual({ refused: 0, timeout: 0, unreachable: 0, reset: 0, other: 0 });
    expect(rule.failovers).toBe(0);
    expect(rule.targets.map((target) => target.up)).toEqual([true, true]);
    const up = findSamples(parsePrometheus(await metrics.text()), 'sluice_target_up', { rule: 'flood' });
    expect(up.map((sample) => sample.value)).toEqual([1, 1]);
    expect(second.accepted).toHaveLength(0);
    // Logged once per burst, not once per connection: a first line, then summaries.
    const firsts = edge.logs
      .slice(from)
      .filter((log) => log.msg === 'accept failed' && log.repeated === undefined);
    expect(firsts.length).toBeLessThanOrEqual(emfile);
    expect(firsts.length).toBeLessThanOrEqual(3);

    // After the flood, new connections relay intact.
    const socket = await connectTcp(port);
    const payload = randomBytes(256 * 1024);
    socket.write(payload);
    expect((await readExactly(socket, payload.length, 10_000)).equals(payload)).toBe(true);
    socket.destroy();
  });
});
