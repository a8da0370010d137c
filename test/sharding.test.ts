// Connections land on more than one shard: each shard binds the rule with SO_REUSEPORT and the
// kernel spreads new connections over them.

import { freePort, pollUntil, withTimeout } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { runCleanup } from './helpers/cleanup.ts';
import { EDGE_NAME } from './helpers/edge-config.ts';
import { launchEdge } from './helpers/edge-fixture.ts';
import { findSamples } from './helpers/metrics.ts';
import { RELAY_PATHS } from './helpers/relay-paths.ts';
import { startEchoTarget } from './helpers/target-server.ts';
import { echoRoundTrip } from './helpers/tcp-client.ts';

afterEach(runCleanup);

describe.each(RELAY_PATHS)('sharding (%s path)', (relayPath) => {
  it('spreads connections over both shards', async () => {
    const CONNECTIONS = 200;
    const target = await startEchoTarget();
    const listenPort = await freePort();
    const { metrics } = await launchEdge({
      relayPath,
      config: { shards: 2, rules: [{ name: 'spread', listenPort, targetPorts: [target.port] }] },
    });
    const json = await metrics.json();
    expect(json.shards).toMatchObject({ configured: 2, running: 2 });

    await withTimeout(
      (async () => {
        for (let start = 0; start < CONNECTIONS; start += 20) {
          await Promise.all(Array.from({ length: 20 }, (_, j) => echoRoundTrip(listenPort, `s${start + j}`)));
        }
      })(),
      60_000,
      `${CONNECTIONS} short connections`,
    );

    const rule = await pollUntil(
      async () => {
        const r = await metrics.rule('spread');
        return r.active_connections === 0 && r;
      },
      { timeoutMs: 10_000, what: 'active_connections to reach 0' },
    );
    expect(rule.connections_total).toBe(CONNECTIONS);
    expect(rule.shards.map((s) => s.shard).sort()).toEqual([0, 1]);
    const busy = rule.shards.filter((s) => s.connections_total > 0);
    expect(busy.length, JSON.stringify(rule.shards)).toBeGreaterThanOrEqual(2);
    expect(rule.shards.reduce((sum, s) => sum + s.connections_total, 0)).toBe(CONNECTIONS);

    // The Prometheus form carries the same numbers, and the shard gauge.
    const samples = await metrics.samples();
    expect(findSamples(samples, 'sluice_shards', { client: EDGE_NAME }).map((s) => s.value)).toEqual([2]);
    const total = findSamples(samples, 'sluice_rule_connections_total', {
      client: EDGE_NAME,
      rule: 'spread',
    });
    expect(total.map((s) => [s.labels.owner, s.value])).toEqual([['default', CONNECTIONS]]);
  });
});
