// Target selection: failover walks past a dead target (counted as refused) and past one whose
// connect times out (counted as timeout); round-robin gives every live target connections.

import { freePort, freePorts, pollUntil } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { runCleanup } from './helpers/cleanup.ts';
import { EDGE_NAME } from './helpers/edge-config.ts';
import { launchEdge } from './helpers/edge-fixture.ts';
import { fillAcceptQueue, neverAcceptingListener } from './helpers/foreign-listener.ts';
import { findSamples } from './helpers/metrics.ts';
import { RELAY_PATHS } from './helpers/relay-paths.ts';
import { startEchoTarget } from './helpers/target-server.ts';
import { echoRoundTrip } from './helpers/tcp-client.ts';

afterEach(runCleanup);

describe.each(RELAY_PATHS)('target selection (%s path)', (relayPath) => {
  it('fails over from a refusing first target to the second and counts reason="refused"', async () => {
    const live = await startEchoTarget();
    const [listenPort, deadPort] = await freePorts(2);
    const { metrics } = await launchEdge({
      relayPath,
      config: {
        shards: 2,
        rules: [
          { name: 'fo', listenPort: listenPort!, targetPorts: [deadPort!, live.port], balance: 'failover' },
        ],
      },
    });

    await echoRoundTrip(listenPort!, 'through-failover');
    expect(live.accepted.length).toBe(1);

    const refused = await pollUntil(
      async () => {
        const samples = findSamples(await metrics.samples(), 'sluice_rule_connect_errors_total', {
          rule: 'fo',
          reason: 'refused',
        });
        return samples.length > 0 && samples.reduce((sum, s) => sum + s.value, 0) >= 1 && samples;
      },
      { timeoutMs: 5_000, what: 'sluice_rule_connect_errors_total{rule="fo",reason="refused"} >= 1' },
    );
    expect(refused[0]!.labels).toMatchObject({
      client: EDGE_NAME,
      rule: 'fo',
      owner: 'default',
      reason: 'refused',
    });
    const rule = await metrics.rule('fo');
    expect(rule.connect_errors.refused).toBeGreaterThanOrEqual(1);
    expect(rule.connections_total).toBe(1);
  });

  it('gives both live targets connections with round-robin', async () => {
    const CONNECTIONS = 20;
    const first = await startEchoTarget();
    const second = await startEchoTarget();
    const listenPort = await freePort();
    await launchEdge({
      relayPath,
      config: {
        shards: 2,
        rules: [{ name: 'rr', listenPort, targetPorts: [first.port, second.port], balance: 'round-robin' }],
      },
    });
    for (let i = 0; i < CONNECTIONS; i++) await echoRoundTrip(listenPort, `rr-${i}`);
    expect(first.accepted.length + second.accepted.length).toBe(CONNECTIONS);
    // Each shard alternates; whatever the kernel's spread, neither target is starved.
    expect(first.accepted.length).toBeGreaterThanOrEqual(5);
    expect(second.accepted.length).toBeGreaterThanOrEqual(5);
  });

  it('walks past a target whose connect times out (connect_timeout_ms) and counts reason="timeout"', async () => {
    const blackhole = await neverAcceptingListener();
    const queued = await fillAcceptQueue(blackhole.port);
    expect(queued).toBeGreaterThanOrEqual(1);
    const live = await startEchoTarget();
    const listenPort = await freePort();
    const { metrics } = await launchEdge({
      relayPath,
      config: {
        shards: 1,
        rules: [
          {
            name: 'slow',
            listenPort,
            targetPorts: [blackhole.port, live.port],
            balance: 'failover',
            connectTimeoutMs: 300,
          },
        ],
      },
    });

    const startedAt = Date.now();
    await echoRoundTrip(listenPort, 'past-the-timeout', 10_000);
    const elapsed = Date.now() - startedAt;
    expect(live.accepted.length).toBe(1);
    // It waited for the first target's 300 ms, and not for the 3 s default.
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(2_500);

    const timeouts = await pollUntil(
      async () => {
        const samples = findSamples(await metrics.samples(), 'sluice_rule_connect_errors_total', {
          rule: 'slow',
          reason: 'timeout',
        });
        const total = samples.reduce((sum, s) => sum + s.value, 0);
        return total >= 1 && total;
      },
      { timeoutMs: 5_000, what: 'sluice_rule_connect_errors_total{rule="slow",reason="timeout"} >= 1' },
    );
    expect(timeouts).toBeGreaterThanOrEqual(1);
    expect((await metrics.rule('slow')).connect_errors.timeout).toBeGreaterThanOrEqual(1);
  });
});
