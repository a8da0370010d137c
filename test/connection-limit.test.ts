// The edge's connection limit (max_connections) against a flood, on every relay path: under a low
// descriptor limit (prlimit) the edge takes a quarter of it as its limit, holds that many
// connections, and lets the rest wait for a place instead of running out of descriptors. Nothing
// of it is blamed on the target: no connect error, no failover, every target stays up, and every
// connection of the flood is relayed, in turn, once places free up.
//
// Where the waiting connections wait depends on the path: on the native path the addon stops
// accepting and they stay in the kernel's backlog (`ss` shows them in the listener's queue); on
// the node:net paths (splice, JS) libuv accepts whatever is waiting, so the edge holds them
// unread, with no upstream, until a place frees (connection-gate.ts), up to what its descriptors
// allow; past that it resets them and counts them (rejected, edge_max_connections).

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { freePort, pollUntil, requireProgram } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { runCleanup } from './helpers/cleanup.ts';
import { launchEdge } from './helpers/edge-fixture.ts';
import type { RuleMetrics } from './helpers/metrics.ts';
import { findSamples, parsePrometheus } from './helpers/metrics.ts';
import { RELAY_PATHS } from './helpers/relay-paths.ts';
import { startEchoTarget } from './helpers/target-server.ts';
import {
  closeAsTheyEnd,
  connectTcp,
  echoOnce,
  readExactly,
  type Sender,
  sendLine,
} from './helpers/tcp-client.ts';

afterEach(runCleanup);

/** The descriptor limit the flooded edge runs under: it takes a quarter as max_connections. */
const NOFILE = 256;
const DEFAULT_MAX = NOFILE / 4;
/**
 * Connections of the flood: relayed all at once they would need more descriptors than the edge
 * has (two sockets each, beside its own); held on the node:net paths they still fit.
 */
const FLOOD = 110;
/** A max_connections under NOFILE that leaves room for LINE_WAITING connections to wait (held, node:net paths). */
const LINE_MAX = 90;
const LINE_WAITING = (NOFILE - 2 * LINE_MAX) / 2;
/** Connections past the line: reset and counted on node:net paths, waiting in the backlog on the native one. */
const LINE_OVER = 10;

type LimitMetrics = RuleMetrics & {
  readonly accept_errors: Readonly<Record<string, number>>;
  readonly failovers: number;
  readonly targets: readonly { readonly target: string; readonly up: boolean }[];
};

/** The listener's accept queue: connections the kernel completed that nobody accepted yet. */
function acceptQueue(port: number): number {
  const ss = requireProgram('ss', 'iproute2');
  const out = execFileSync(ss, ['-Hltn', `sport = :${port}`]).toString();
  // One line per listening socket (one per shard): State Recv-Q Send-Q Local Peer.
  return out
    .trim()
    .split('\n')
    .filter((line) => line !== '')
    .reduce((sum, line) => sum + Number(line.trim().split(/\s+/)[1]), 0);
}

describe.each(RELAY_PATHS)('connection limit (%s path)', (relayPath) => {
  it('under a low descriptor limit, a flood waits for places: no target is blamed and every connection relays', async () => {
    const first = await startEchoTarget();
    const second = await startEchoTarget();
    const port = await freePort();
    const { edge, metrics } = await launchEdge({
      relayPath,
      nofile: { soft: NOFILE, hard: NOFILE },
      config: {
        shards: 1,
        rules: [{ name: 'flood', listenPort: port, targetPorts: [first.port, second.port] }],
      },
    });
    const ready = edge.logs.find((line) => line.msg === 'edge ready');
    expect([ready?.nofile, ready?.nofile_hard, ready?.max_connections]).toEqual([
      NOFILE,
      NOFILE,
      DEFAULT_MAX,
    ]);

    const from = edge.mark();
    const flood: Sender[] = [];
    for (let i = 0; i < FLOOD; i++) flood.push(await sendLine(port, `flood ${i}`));
    await pollUntil(() => flood.filter((sender) => sender.echoed).length === DEFAULT_MAX, {
      timeoutMs: 20_000,
      what: `${DEFAULT_MAX} connections relayed`,
    });
    // At the limit: the rest wait, none reaches a target.
    expect((await metrics.json()).connections).toEqual({ open: DEFAULT_MAX, max: DEFAULT_MAX });
    expect([first.accepted.length, second.accepted.length]).toEqual([DEFAULT_MAX, 0]);
    await edge.waitForMsg(
      'edge reached max_connections; new connections waited for a place',
      {},
      10_000,
      from,
    );

    // Each connection that ends lets one waiting connection in, until the flood is through.
    await closeAsTheyEnd(flood, false, 'every connection of the flood relayed');
    await pollUntil(async () => (await metrics.json()).connections.open === 0, {
      timeoutMs: 10_000,
      what: 'the flood to close',
    });

    // Nothing was counted against the targets, and the edge never ran out of descriptors.
    const rule = (await metrics.rule('flood')) as LimitMetrics;
    expect(rule.connect_errors).toEqual({ refused: 0, timeout: 0, unreachable: 0, reset: 0, other: 0 });
    expect(rule.accept_errors).toEqual({ emfile: 0, enfile: 0, enomem: 0, other: 0 });
    expect(rule.failovers).toBe(0);
    expect(rule.connections_total).toBe(FLOOD);
    expect(rule.targets.map((target) => target.up)).toEqual([true, true]);
    const up = findSamples(parsePrometheus(await metrics.text()), 'sluice_target_up', { rule: 'flood' });
    expect(up.map((sample) => sample.value)).toEqual([1, 1]);
    expect(first.accepted).toHaveLength(FLOOD);

    // After the flood, a new connection relays a larger payload intact.
    const socket = await connectTcp(port);
    const payload = randomBytes(256 * 1024);
    socket.write(payload);
    expect((await readExactly(socket, payload.length, 10_000)).equals(payload)).toBe(true);
    socket.destroy();
  });

  it('holds a connection beyond max_connections until one closes, then relays it', async () => {
    const target = await startEchoTarget();
    const port = await freePort();
    const { edge, metrics } = await launchEdge({
      relayPath,
      config: {
        shards: 2,
        maxConnections: 2,
        rules: [{ name: 'capped', listenPort: port, targetPorts: [target.port] }],
      },
    });
    const ready = edge.logs.find((line) => line.msg === 'edge ready');
    expect(ready?.max_connections).toBe(2);
    const from = edge.mark();
    const held = [await connectTcp(port), await connectTcp(port)];
    for (const socket of held) await echoOnce(socket, 'in');
    // The third connects (the kernel completes the handshake) but the edge takes no place for it.
    const third = await sendLine(port, 'third');
    await edge.waitForMsg(
      'edge reached max_connections; new connections waited for a place',
      { max_connections: 2 },
      10_000,
      from,
    );
    expect(third.echoed).toBe(false);
    expect(target.accepted).toHaveLength(2);
    expect((await metrics.json()).connections).toEqual({ open: 2, max: 2 });
    // Where it waits: in the kernel's backlog on the native path; held by the edge otherwise.
    expect(acceptQueue(port)).toBe(relayPath === 'native' ? 1 : 0);

    held[0]?.destroy();
    await pollUntil(() => third.echoed || third.failed !== null, {
      timeoutMs: 10_000,
      what: 'the third echo',
    });
    expect(third.failed).toBeNull();
    expect(target.accepted).toHaveLength(3);
    const rule = (await metrics.rule('capped')) as LimitMetrics;
    expect(rule.connect_errors).toEqual({ refused: 0, timeout: 0, unreachable: 0, reset: 0, other: 0 });
    expect(rule.accept_errors).toEqual({ emfile: 0, enfile: 0, enomem: 0, other: 0 });
  });

  it('past max_connections and the line of waiting connections: native waits on in the backlog, node:net paths reset and count', async () => {
    const target = await startEchoTarget();
    const port = await freePort();
    const { edge, metrics } = await launchEdge({
      relayPath,
      nofile: { soft: NOFILE, hard: NOFILE },
      config: {
        shards: 1,
        maxConnections: LINE_MAX,
        rules: [{ name: 'line', listenPort: port, targetPorts: [target.port] }],
      },
    });
    const ready = edge.logs.find((line) => line.msg === 'edge ready');
    expect([ready?.max_connections, ready?.max_waiting]).toEqual([LINE_MAX, LINE_WAITING]);
    const flood: Sender[] = [];
    for (let i = 0; i < LINE_MAX + LINE_WAITING + LINE_OVER; i++)
      flood.push(await sendLine(port, `line ${i}`));
    await pollUntil(() => flood.filter((sender) => sender.echoed).length === LINE_MAX, {
      timeoutMs: 20_000,
      what: `${LINE_MAX} connections relayed`,
    });
    const refused = relayPath === 'native' ? 0 : LINE_OVER;
    await pollUntil(() => flood.filter((sender) => sender.failed !== null).length === refused, {
      timeoutMs: 10_000,
      what: `${refused} connections refused`,
    });
    if (relayPath === 'native') expect(acceptQueue(port)).toBe(LINE_WAITING + LINE_OVER);
    await closeAsTheyEnd(flood, true, 'every connection relayed or refused');
    expect(flood.filter((sender) => sender.echoed)).toHaveLength(flood.length - refused);
    const rule = (await metrics.rule('line')) as LimitMetrics;
    expect(rule.rejected.edge_max_connections).toBe(refused);
    expect(rule.connect_errors).toEqual({ refused: 0, timeout: 0, unreachable: 0, reset: 0, other: 0 });
    expect(rule.accept_errors).toEqual({ emfile: 0, enfile: 0, enomem: 0, other: 0 });
    expect(rule.targets.map((t) => t.up)).toEqual([true]);
  });
});
