// Cumulative stats per rule id over a real ShardSupervisor: they follow a rule to a new listener
// and back after a removal, and never go down.

import { once } from 'node:events';
import net from 'node:net';
import { ShardSupervisor } from '@sluice/core';
import type { RuleStats } from '@sluice/protocol';
import { freePort, tcpRule, ZERO_COUNTERS } from '@sluice/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PushMessage } from './control-client.ts';
import { PushedRuleSet } from './pushed-rule-set.ts';
import { RuleStatsCollector } from './rule-stats-collector.ts';

let supervisor: ShardSupervisor;
let target: net.Server;
let targetPort: number;

beforeAll(async () => {
  supervisor = await ShardSupervisor.start({ shards: 2, drainTimeoutMs: 200, log: () => {} });
  target = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  target.listen({ host: '127.0.0.1', port: 0 });
  await once(target, 'listening');
  targetPort = (target.address() as net.AddressInfo).port;
});
afterAll(async () => {
  await supervisor.stop();
  await new Promise((resolve) => target.close(resolve));
});

/** The socket closed, with or without an error (events.once would reject on a reset). */
function closed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => socket.once('close', () => resolve()));
}

/** One connection that sends `bytes` bytes, reads them back, and closes. */
async function echo(port: number, bytes: number): Promise<void> {
  const socket = net.connect({ host: '127.0.0.1', port });
  let got = 0;
  socket.on('data', (chunk: Buffer) => {
    got += chunk.length;
    if (got >= bytes) socket.end();
  });
  socket.write(Buffer.alloc(bytes, 1));
  await closed(socket);
}

let pushId = 1;
function push(upsert: PushMessage['upsert'], remove: string[] = []): PushMessage {
  return { type: 'push', pushId: pushId++, full: false, upsert, remove };
}

/** Polls until the counters caught up with closed connections (shards count asynchronously). */
async function settled(collect: () => RuleStats[], until: (stats: RuleStats) => boolean): Promise<RuleStats> {
  for (let i = 0; i < 200; i++) {
    const [stats] = collect();
    // Settled: `until` holds and the slot stopped moving (a connection's close writes words of
    // the slot that RuleStats does not show, a little after the fields `until` reads).
    if (stats && until(stats) && collect()[0] === stats) return stats;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`stats never settled: ${JSON.stringify(collect())}`);
}

/** Polls until the supervisor has let go of what `until` waits for (a drain ends asynchronously). */
async function settledSupervisor(until: () => boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (until()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`the supervisor never settled: ${JSON.stringify(supervisor.snapshot())}`);
}

describe('RuleStatsCollector', () => {
  it('sums a rule over shards and keeps counting across a new listener and a removal', async () => {
    const rules = new PushedRuleSet(supervisor);
    const stats = new RuleStatsCollector(supervisor);
    const collect = (): RuleStats[] => stats.collect(['r1'], rules.idsByName());
    const [a, b] = [await freePort(), await freePort()];

    expect(collect()).toEqual([{ ruleId: 'r1', ...ZERO_COUNTERS, rejectedByReason: {} }]);
    await rules.push(push([tcpRule('r1', 'web', a, targetPort)]));
    for (let i = 0; i < 4; i++) await echo(a, 1000);
    const first = await settled(
      collect,
      (s) => s.connectionsTotal === 4 && s.bytesOut === 4000 && s.activeConnections === 0,
    );
    expect(first.bytesIn).toBe(4000);

    // A new listen: a new counter slot; what the old one counted is kept.
    await rules.push(push([tcpRule('r1', 'web', b, targetPort, { revision: 2 })]));
    expect(collect()[0]!.bytesIn).toBeGreaterThanOrEqual(4000);
    await echo(b, 500);
    const second = await settled(collect, (s) => s.connectionsTotal === 5 && s.bytesOut === 4500);
    expect(second.bytesIn).toBe(4500);

    // Removed, then pushed again: the id's totals go on from where they were.
    await rules.push(push([], ['r1']));
    await settledSupervisor(() => supervisor.snapshot().every((rule) => rule.name !== 'web'));
    expect(collect()[0]!.bytesIn).toBe(4500);
    await rules.push(push([tcpRule('r1', 'web', a, targetPort, { revision: 3 })]));
    await echo(a, 100);
    const third = await settled(collect, (s) => s.connectionsTotal === 6 && s.bytesOut === 4600);
    expect(third.bytesIn).toBe(4600);

    // A connect error: the target is gone.
    const deadPort = await freePort();
    await rules.push(push([tcpRule('r1', 'web', a, deadPort, { revision: 4 })]));
    const socket = net.connect({ host: '127.0.0.1', port: a });
    socket.on('error', () => {});
    socket.resume();
    await closed(socket);
    const fourth = await settled(collect, (s) => s.connectErrors >= 1);
    expect(fourth.bytesIn).toBe(4600);
    expect(fourth.rejectedByReason).toEqual({});

    // A client that speaks no PROXY header to an accept_proxy rule: rejected, and why.
    await rules.push(
      push([tcpRule('r1', 'web', a, targetPort, { revision: 5, rule: { accept_proxy: true } })]),
    );
    const junk = net.connect({ host: '127.0.0.1', port: a });
    junk.on('error', () => {});
    junk.resume();
    junk.end('GET / HTTP/1.1\r\n\r\n');
    await closed(junk);
    const fifth = await settled(collect, (s) => s.rejected >= 1);
    expect(fifth.rejected).toBe(1);
    expect(fifth.rejectedByReason).toEqual({ proxy_header_invalid: 1 });
    await rules.push(push([], ['r1']));
  });

  it('gives an idle rule the same result again; traffic, a connection left open and a hand-over make it anew', async () => {
    const rules = new PushedRuleSet(supervisor);
    const stats = new RuleStatsCollector(supervisor);
    const collect = (): RuleStats[] => stats.collect(['q1', 'q2'], rules.idsByName());
    const [a, b] = [await freePort(), await freePort()];
    await rules.push(push([tcpRule('q1', 'idle-a', a, targetPort), tcpRule('q2', 'idle-b', b, targetPort)]));
    const [firstA, firstB] = collect();
    // New rules at zero: nothing to save yet.
    const start = stats.generation;
    const [againA, againB] = collect();
    expect(againA).toBe(firstA);
    expect(againB).toBe(firstB);
    expect(stats.generation).toBe(start);

    await echo(a, 300);
    const moved = await settled(collect, (s) => s.bytesOut === 300 && s.activeConnections === 0);
    expect(moved).not.toBe(firstA);
    expect(moved).toMatchObject({ ruleId: 'q1', connectionsTotal: 1, bytesIn: 300 });
    const counted = stats.generation;
    expect(counted).toBeGreaterThan(start);
    // q2 saw nothing: the same object throughout.
    expect(collect()[1]).toBe(firstB);
    expect(collect()[0]).toBe(moved);
    expect(stats.generation).toBe(counted);

    // A connection held open moves only the level, which is read too (and is not a count).
    const open = net.connect({ host: '127.0.0.1', port: b });
    await once(open, 'connect');
    const level = await settled(
      () => collect().slice(1),
      (s) => s.activeConnections === 1,
    );
    expect(level).not.toBe(firstB);
    open.destroy();
    await settled(
      () => collect().slice(1),
      (s) => s.activeConnections === 0 && s.connectionsTotal === 1,
    );

    // A hand-over's counts make every rule's result anew.
    const beforeCarry = collect();
    stats.carry({ q2: { ...ZERO_COUNTERS, bytesIn: 7, rejectedByReason: {} } });
    const carried = collect();
    expect(carried[0]).not.toBe(beforeCarry[0]);
    expect(carried[0]).toEqual(beforeCarry[0]);
    expect(carried[1]!.bytesIn).toBe(beforeCarry[1]!.bytesIn + 7);
    await rules.push(push([], ['q1', 'q2']));
  });

  it('adds the counts a predecessor handed over, each hand-over replacing the last', async () => {
    const rules = new PushedRuleSet(supervisor);
    const stats = new RuleStatsCollector(supervisor);
    const collect = (): RuleStats[] => stats.collect(['r2'], rules.idsByName());
    const port = await freePort();
    await rules.push(push([tcpRule('r2', 'handed', port, targetPort)]));
    await echo(port, 300);
    await settled(collect, (s) => s.connectionsTotal === 1 && s.bytesOut === 300);
    const handed = (bytes: number, connections: number) => ({
      r2: {
        bytesIn: bytes,
        bytesOut: bytes,
        connectionsTotal: connections,
        rejected: 1,
        rejectedByReason: { rate_limited: 1 },
        connectErrors: 0,
      },
    });
    stats.carry(handed(1000, 10));
    expect(collect()[0]).toMatchObject({ bytesIn: 1300, connectionsTotal: 11, rejected: 1 });
    // The old edge drained on: its cumulative counts replace what it handed before.
    stats.carry(handed(1200, 11));
    expect(collect()[0]).toMatchObject({
      bytesIn: 1500,
      bytesOut: 1500,
      connectionsTotal: 12,
      rejectedByReason: { rate_limited: 1 },
    });
    await rules.push(push([], ['r2']));
  });
});
