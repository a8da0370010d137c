// Thousands of idle connections held through the edge at once, then released. On the splice
// path the addon holds the two duplicated descriptors of each pair and JS lets go of its own,
// so the edge holds 2 descriptors per connection (not 4) and no pipe for an idle one; the JSON
// active_connections equals the count; after the release every descriptor is given back.
//
// Issue 3 asks for 10k; this machine's hard RLIMIT_NOFILE is 20000 and cannot be raised, and the
// edge needs 2 descriptors per connection plus its own, so the splice path holds 9000. The
// clients live in the test process and the target in a process of its own, so no process needs
// more than about half its limit. The JS path holds fewer (its sockets cost heap, which the
// bench measures); it is here to show the same accounting holds there too. The edge's default
// max_connections (a quarter of the descriptor limit, room for a pipe pair each) is raised to
// the count: idle connections hold no pipe.

import type { Socket } from 'node:net';
import { freePort, pollUntil, withTimeout } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { runCleanup } from './helpers/cleanup.ts';
import { launchEdge } from './helpers/edge-fixture.ts';
import { describeFds, FD_SLACK, poolAllowance, waitForFdBaseline } from './helpers/fd-baseline.ts';
import { type FdKinds, fdCount, fdKinds, openFilesLimit } from './helpers/proc-stats.ts';
import { RELAY_PATHS, type RelayPath, splices } from './helpers/relay-paths.ts';
import { startEchoTargetProcess } from './helpers/target-process.ts';
import { connectTcp, echoOnce, echoRoundTrip } from './helpers/tcp-client.ts';

afterEach(runCleanup);

const CONNECTIONS: Record<RelayPath, number> = { native: 9000, splice: 9000, js: 4000 };
/** Connections opened at once; more would only overflow the listen backlog and wait on SYN retries. */
const BATCH = 100;
const SHARDS = 2;
const WARM_UP = 2 * BATCH;
/** Connections held when the descriptors are first checked, well before any limit. */
const EARLY_CHECK = 1000;
/** Descriptors a process needs beyond the connections it holds (its own, plus room to spare). */
const HEADROOM = 256;

/** Fails with a clear message when a process may not open `needed` descriptors. */
function requireDescriptors(who: string, pid: number | 'self', needed: number): void {
  const limit = openFilesLimit(pid);
  if (limit < needed) {
    throw new Error(
      `${who} may open ${limit} descriptors (ulimit -n) but this test needs ${needed}; ` +
        'raise the limit (ulimit -n) or lower CONNECTIONS in test/idle-connections.test.ts',
    );
  }
}

describe.each(RELAY_PATHS)('idle connections (%s path)', (relayPath) => {
  const count = CONNECTIONS[relayPath];

  it(`holds ${count} idle connections at 2 descriptors each, then gives every descriptor back`, async () => {
    const target = await startEchoTargetProcess();
    const listenPort = await freePort();
    const { edge, metrics } = await launchEdge({
      relayPath,
      config: {
        shards: SHARDS,
        maxConnections: count,
        rules: [{ name: 'idle', listenPort, targetPorts: [target.port] }],
      },
    });
    // A batch's pairs may all hold a pipe each way at once while their first bytes pass.
    const pipeAllowance = splices(relayPath) ? poolAllowance(SHARDS, 2 * BATCH) : 0;

    requireDescriptors('the test process (the clients)', 'self', fdCount(process.pid) + count + HEADROOM);
    requireDescriptors('the target process', target.pid, fdCount(target.pid) + count + HEADROOM);
    // While a batch is handed to the addon its pairs briefly hold 4 descriptors.
    requireDescriptors(
      'the edge',
      edge.pid,
      fdCount(edge.pid) + 2 * count + 2 * BATCH + pipeAllowance + HEADROOM,
    );

    const activeIs = (n: number) => async () => (await metrics.rule('idle')).active_connections === n;
    // Warm up whatever the edge creates lazily (pipe pools, the metrics server), then settle.
    for (let start = 0; start < WARM_UP; start += BATCH) {
      await Promise.all(
        Array.from({ length: BATCH }, (_, j) => echoRoundTrip(listenPort, `warm-${start + j}`)),
      );
    }
    await pollUntil(activeIs(0), { timeoutMs: 10_000, what: 'warm-up connections to finish' });
    const baseline = fdKinds(edge.pid);

    // Two sockets per pair (the client's and the target's side); a pair whose JS sockets were
    // kept beside the addon's duplicates would show four. Handed-off JS sockets close on the
    // next loop turn, so the count is polled down to its steady value.
    const expectTwoSocketsPerPair = async (pairs: number): Promise<FdKinds> => {
      const held = await pollUntil(
        () => {
          const now = fdKinds(edge.pid);
          return now.sockets - baseline.sockets <= 2 * pairs + FD_SLACK.sockets && now;
        },
        {
          timeoutMs: 10_000,
          intervalMs: 100,
          what: `the edge to hold 2 sockets for each of ${pairs} connections`,
        },
      ).catch((err: Error) => {
        throw new Error(`${err.message}: ${describeFds(fdKinds(edge.pid), baseline)}`);
      });
      const what = `${describeFds(held, baseline)} with ${pairs} connections held`;
      expect(held.sockets - baseline.sockets, what).toBeGreaterThanOrEqual(2 * pairs - FD_SLACK.sockets);
      // An idle connection holds no pipe: at most what the pools kept from the busy moments.
      expect(held.pipes - baseline.pipes, what).toBeLessThanOrEqual(pipeAllowance);
      expect(held.other - baseline.other, what).toBeLessThanOrEqual(FD_SLACK.other);
      return held;
    };

    const sockets: Socket[] = [];
    await withTimeout(
      (async () => {
        for (let start = 0; start < count; start += BATCH) {
          const batch = await Promise.all(
            Array.from({ length: Math.min(BATCH, count - start) }, async (_, j) => {
              const socket = await connectTcp(listenPort, { timeoutMs: 10_000 });
              // One round trip: the pair is relayed end to end before it goes idle.
              await echoOnce(socket, `i${String(start + j).padStart(5, '0')}`, 10_000);
              return socket;
            }),
          );
          sockets.push(...batch);
          // Checked early too, so a relay that keeps 4 descriptors per pair is named as such
          // before it runs the edge out of descriptors.
          if (sockets.length === EARLY_CHECK) await expectTwoSocketsPerPair(EARLY_CHECK);
        }
      })(),
      90_000,
      `${count} connections to open`,
    );
    expect(sockets).toHaveLength(count);

    // Held: the counters and both ends agree on the count.
    await pollUntil(activeIs(count), { timeoutMs: 10_000, what: `active_connections to reach ${count}` });
    const json = await metrics.rule('idle');
    expect(json.active_connections).toBe(count);
    expect(json.shards.reduce((sum, s) => sum + s.active_connections, 0)).toBe(count);
    expect(await target.openConnections()).toBe(count);
    await expectTwoSocketsPerPair(count);

    // Released: every connection ends, and the edge is back to where it started.
    for (const socket of sockets) socket.destroy();
    await pollUntil(activeIs(0), { timeoutMs: 30_000, what: 'active_connections to return to 0' });
    await pollUntil(async () => (await target.openConnections()) === 0, {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: 'the target to see every connection closed',
    });
    const after = await waitForFdBaseline(edge.pid, baseline, pipeAllowance);
    expect(after.sockets, describeFds(after, baseline)).toBeLessThanOrEqual(
      baseline.sockets + FD_SLACK.sockets,
    );
    const rule = await metrics.rule('idle');
    expect(rule.connections_total).toBe(WARM_UP + count);
    expect(rule.active_connections).toBe(0);
  });
});
