// An edge with more rules than Node's default of 10 listeners per event: each rule's relay must
// not hang its own listener on the thread's process object (one per rule was never removed, and
// Node printed a MaxListenersExceededWarning with a stack trace at the eleventh rule).

import { freePorts } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { runCleanup } from './helpers/cleanup.ts';
import { launchEdge } from './helpers/edge-fixture.ts';
import { RELAY_PATHS } from './helpers/relay-paths.ts';
import { startEchoTarget } from './helpers/target-server.ts';
import { echoRoundTrip } from './helpers/tcp-client.ts';

afterEach(runCleanup);

const RULES = 16;

describe.each(RELAY_PATHS)('many rules (%s path)', (relayPath) => {
  it(`binds ${RULES} rules without a listener warning, and each relays`, async () => {
    const target = await startEchoTarget();
    const ports = await freePorts(RULES);
    const { edge } = await launchEdge({
      relayPath,
      config: {
        shards: 1,
        rules: ports.map((listenPort, i) => ({ name: `r${i}`, listenPort, targetPorts: [target.port] })),
      },
    });
    // echoRoundTrip fails unless the message comes back.
    for (const [i, port] of ports.entries()) {
      await echoRoundTrip(port, `rule ${i}`);
    }
    expect(edge.stderr).not.toContain('MaxListenersExceededWarning');
  });
});
