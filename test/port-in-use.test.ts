// A port held by another process, with or without SO_REUSEPORT, makes its rule
// Failed(port_in_use), released on every shard, while the other rules of the file serve.

import { freePorts } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { runCleanup } from './helpers/cleanup.ts';
import { launchEdge } from './helpers/edge-fixture.ts';
import { FOREIGN_GREETING, holdPort } from './helpers/foreign-listener.ts';
import { RELAY_PATHS } from './helpers/relay-paths.ts';
import { startEchoTarget } from './helpers/target-server.ts';
import { connectTcp, echoRoundTrip, readExactly } from './helpers/tcp-client.ts';

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
      await edge.waitForMsg('rule active', { rule: 'free' }, 5_000);
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
