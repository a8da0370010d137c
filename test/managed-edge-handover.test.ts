// A managed edge hands over on SIGUSR2 (docs/operations.md): the successor resumes the rules it
// saved, binds beside the old edge, and opens its own control session once the old edge has
// closed its one; it counts on under the old edge's boot, with the counts the old edge makes while
// it drains handed over too. The server's totals never go back and end exact to the byte, the
// rule stays Active, and the server lists one edge.

import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, pollUntil } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { type RuleStats, tcpRule } from './helpers/api-client.ts';
import { runCleanup } from './helpers/cleanup.ts';
import { addEdge, startControlPlane } from './helpers/control-plane.ts';
import { processExit, successorOf } from './helpers/handover.ts';
import { expectStatsSteady } from './helpers/stats-steady.ts';
import { startEchoTarget } from './helpers/target-server.ts';
import { closed, connectTcp, echoOnce, echoRoundTrip } from './helpers/tcp-client.ts';

afterEach(runCleanup);

describe('managed edge hand-over', () => {
  it('continues the counters on the server, keeps the rule Active and the edge one', async () => {
    const plane = await startControlPlane({ configToml: 'stats_interval_secs = 1\n' });
    const { api } = plane;
    const edge = await addEdge(plane, 'edge-h');
    const target = await startEchoTarget();
    const port = await freePort();
    const rule = await api.pushActive('edge-h', tcpRule('web', port, target.port));
    let bytes = 0;
    const roundTrips = async (label: string, count: number): Promise<void> => {
      for (let i = 0; i < count; i++) {
        const message = `${label}-${i}`;
        await echoRoundTrip(port, message);
        bytes += message.length;
      }
    };
    const statsAt = (total: number) =>
      pollUntil(
        async () => {
          const stats = await api.stats(rule.id);
          return stats.bytesIn === total && stats.bytesOut === total ? stats : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 100, what: `the server's totals of ${total} bytes each way` },
      );

    await roundTrips('before', 10);
    await statsAt(bytes);
    // A connection the old edge holds through its drain; its bytes are counted as it closes
    // (the relay counts a flow's bytes at least every 64 KiB), on the old edge, after the hand-over.
    const long = await connectTcp(port);
    await echoOnce(long, 'long-before');
    bytes += 'long-before'.length;

    // The server's figures while the hand-over goes on (bounded: at most 300 reads).
    const seen: RuleStats[] = [];
    let watching = true;
    const watch = (async () => {
      for (let i = 0; i < 300 && watching; i++) {
        seen.push(await api.stats(rule.id));
        await sleep(100);
      }
    })();
    // A failed test stops the server under the loop: its error then belongs to nobody.
    watch.catch(() => {});

    const from = edge.process.mark();
    edge.process.signal('SIGUSR2');
    const successor = await successorOf(edge.process, from);
    await edge.process.waitForMsg('control connected', { pid: successor }, 15_000, from);
    await roundTrips('after', 10);
    await echoOnce(long, 'long-during-drain');
    bytes += 'long-during-drain'.length;
    long.end();
    await closed(long, 5_000);
    expect(await processExit(edge.process.child, 30_000)).toEqual({ code: 0, signal: null });

    await statsAt(bytes);
    // The reports after leave the totals as they are: nothing was counted twice.
    await expectStatsSteady(
      async () => {
        const stats = await api.stats(rule.id);
        return [stats.bytesIn, stats.bytesOut, stats.connectionsTotal];
      },
      [bytes, bytes, 21],
      `rule ${rule.id}`,
    );
    watching = false;
    await watch;
    for (const [i, stats] of seen.entries()) {
      const before = seen[i - 1];
      if (before === undefined) continue;
      expect(stats.bytesIn, `bytesIn at read ${i}`).toBeGreaterThanOrEqual(before.bytesIn);
      expect(stats.connectionsTotal, `connectionsTotal at read ${i}`).toBeGreaterThanOrEqual(
        before.connectionsTotal,
      );
    }

    // Both sessions were of one boot: the server folded the successor's reports on the old ones.
    const sessions = plane.server.logs.filter((log) => log.msg === 'edge connected' && log.name === 'edge-h');
    expect(new Set(sessions.map((log) => log.bootId)).size).toBe(1);
    const edges = (await api.edges()).filter((e) => e.name === 'edge-h');
    expect(edges).toMatchObject([{ connected: true, rules: 1 }]);
    expect((await api.rules('edge-h')).map((r) => [r.name, r.state])).toEqual([['web', 'active']]);
    await echoRoundTrip(port, 'served after the hand-over');
  });
});
