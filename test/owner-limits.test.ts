// Owner caps set through the API hold on a real managed edge: two rules of one owner, each
// carrying an iperf3 stream, move together at the owner's bandwidth cap; after the edge process
// is killed and started again, the caps come back with the full push and hold again; with the
// caps deleted the same streams run well above them.

import { freePorts, pollUntil } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { runCleanup } from './helpers/cleanup.ts';
import { addEdge, startControlPlane } from './helpers/control-plane.ts';
import { iperf3Rate, startIperf3Server } from './helpers/iperf3.ts';
import { edgeRuleStates, startManagedEdge } from './helpers/managed-edge-process.ts';

afterEach(runCleanup);

// 16 Mbit/s, with a quarter second of burst, spent in the seconds iperf3 leaves out.
const CAP_BYTES_PER_SEC = 2_000_000;
const LIMITS = { bandwidth: '16Mbit', burst: '4Mbit' };
const SECS = 4;
const OMIT_SECS = 2;

describe('owner caps through the API', () => {
  it('hold the sum of two rules of the owner on a real edge, and again after the edge reconnects', async () => {
    const plane = await startControlPlane();
    const edge = await addEdge(plane, 'edge-01');
    const [targetA, targetB, listenA, listenB] = (await freePorts(4)) as [number, number, number, number];
    await startIperf3Server(targetA);
    await startIperf3Server(targetB);
    for (const [name, listen, target] of [
      ['a', listenA, targetA],
      ['b', listenB, targetB],
    ] as const) {
      await plane.api.pushActive('edge-01', {
        name,
        listen: `127.0.0.1:${listen}`,
        targets: [`127.0.0.1:${target}`],
        owner: 'team',
      });
    }
    const set = await plane.api.request('PUT', '/v1/edges/edge-01/owners/team/limits', { limits: LIMITS });
    expect(set.status, set.text).toBe(200);
    expect(set.body).toMatchObject({ owner: 'team', limits: LIMITS, edge: { name: 'edge-01' } });

    const together = async () => {
      const [a, b] = await Promise.all([
        iperf3Rate(listenA, SECS, OMIT_SECS),
        iperf3Rate(listenB, SECS, OMIT_SECS),
      ]);
      return a + b;
    };
    const capped = await together();
    expect(Math.abs(capped / CAP_BYTES_PER_SEC - 1), `sum ${capped} B/s`).toBeLessThan(0.03);

    // A new edge process: it knows nothing until the server's full push brings rules and caps.
    await edge.process.kill();
    await plane.api.waitConnected('edge-01', false);
    const restarted = await startManagedEdge(edge.bundle, { metricsPort: edge.metricsPort });
    await pollUntil(
      async () => {
        const states = await edgeRuleStates(restarted);
        return states.a === 'active' && states.b === 'active' ? states : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 100, what: 'the restarted edge to run rules a and b' },
    );
    const again = await together();
    expect(Math.abs(again / CAP_BYTES_PER_SEC - 1), `after reconnect: sum ${again} B/s`).toBeLessThan(0.03);

    expect((await plane.api.get('/v1/edges/edge-01/owners/team/limits')).body).toMatchObject({
      limits: LIMITS,
    });
    expect((await plane.api.request('DELETE', '/v1/edges/edge-01/owners/team/limits')).status).toBe(204);
    expect((await plane.api.get('/v1/edges/edge-01/owners/team/limits')).status).toBe(404);
    const free = await together();
    expect(free, `without caps: sum ${free} B/s`).toBeGreaterThan(CAP_BYTES_PER_SEC * 3);
  }, 90_000);
});
