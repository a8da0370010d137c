// A port held by another process, with or without SO_REUSEPORT, makes its rule
// Failed(port_in_use), released on every shard, while the other rules of the file serve.

import { freePorts } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { runCleanup } from './helpers/cleanup.ts';
import { writeConfig } from './helpers/edge-config.ts';
import { launchEdge } from './helpers/edge-fixture.ts';
import { runEdgeCommand } from './helpers/edge-process.ts';
import { FOREIGN_GREETING, holdPort } from './helpers/foreign-listener.ts';
import { RELAY_PATHS } from './helpers/relay-paths.ts';
import { startEchoTarget } from './helpers/target-server.ts';
import { connectTcp, echoRoundTrip, readExactly } from './helpers/tcp-client.ts';
import { makeTempDir } from './helpers/temp-dir.ts';

afterEach(runCleanup);

describe.each(RELAY_PATHS)('port in use (%s path)', (relayPath) => {
  it.each([
    { holder: 'with SO_REUSEPORT', reusePort: true },
    { holder: 'without SO_REUSEPORT', reusePort: false },
  ])(
    'fails the rule whose port another process holds ($holder); the other rule serves',
    async ({ reusePort }) => {
      const target = await startEchoTarget();
      const [takenPort, freeListenPort] = await freePorts(2);
      await holdPort(takenPort!, reusePort);
      const { edge, metrics } = await launchEdge({
        relayPath,
        config: {
          shards: 2,
          rules: [
            { name: 'taken', listenPort: takenPort!, targetPorts: [target.port] },
            { name: 'free', listenPort: freeListenPort!, targetPorts: [target.port] },
          ],
        },
      });

      await edge.waitForMsg('rule failed', { rule: 'taken', reason: 'port_in_use' }, 5_000);
      await edge.waitForMsg('rules active', { rules: 1, failed: 1 }, 5_000);
      const json = await metrics.json();
      expect(json.rules.find((r) => r.name === 'taken')).toMatchObject({
        state: 'failed',
        reason: 'port_in_use',
      });
      expect(json.rules.find((r) => r.name === 'free')).toMatchObject({ state: 'active', reason: null });

      for (let i = 0; i < 10; i++) await echoRoundTrip(freeListenPort!, `free-${i}`);
      // The edge let go of the taken port on every shard: each connection still reaches its holder.
      for (let i = 0; i < 20; i++) {
        const socket = await connectTcp(takenPort!);
        const greeting = await readExactly(socket, FOREIGN_GREETING.length);
        expect(greeting.toString()).toBe(FOREIGN_GREETING);
        socket.destroy();
      }
      expect(target.accepted.length).toBe(10);
    },
  );
});

describe('the metrics port in use', () => {
  it('is one line naming the address and exit 6, no stack trace', async () => {
    const [metricsPort, listenPort] = await freePorts(2);
    await holdPort(metricsPort!, false);
    const file = writeConfig(makeTempDir(), {
      metricsPort: metricsPort!,
      rules: [{ name: 'web', listenPort: listenPort!, targetPorts: [listenPort! + 1] }],
    });
    const result = await runEdgeCommand(['--config', file]);
    expect(result.code).toBe(6);
    expect(result.stderr).toBe(
      `metrics_listen_failed: cannot serve /metrics on 127.0.0.1:${metricsPort}: EADDRINUSE: another socket holds the address\n`,
    );
  });
});
