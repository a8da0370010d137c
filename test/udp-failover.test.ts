// UDP targets are ordered, health-checked and failed over like TCP's: a flow whose first target
// answers ICMP port unreachable moves to the second and its datagram is sent again there; a
// target that keeps refusing goes down (sluice_target_up 0) and new flows start at the next
// one; the active probe (health_check_interval_secs) brings it back once it listens again.
// Real UDP sockets on loopback, on both paths: the addon's batched flow path and node:dgram.

import { freePorts, pollUntil } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { runCleanup } from './helpers/cleanup.ts';
import type { RuleMetrics } from './helpers/metrics.ts';
import { launchRawEdge } from './helpers/raw-edge.ts';
import { UDP_PATHS } from './helpers/relay-paths.ts';
import { startUdpEcho, type UdpClient, udpClient } from './helpers/udp.ts';

afterEach(runCleanup);

type UdpRuleMetrics = RuleMetrics & {
  readonly failovers: number;
  readonly targets: readonly { readonly target: string; readonly up: boolean }[];
};

/** Sends `text` from `client` and waits for the one reply it brings. */
async function ask(client: UdpClient, port: number, text: string): Promise<string> {
  const before = client.replies.length;
  await client.send(text, port);
  await pollUntil(() => client.replies.length > before, { timeoutMs: 5_000, what: `a reply to ${text}` });
  return client.replies[before]!.toString();
}

describe.each(UDP_PATHS)('UDP target failover (%s path)', (relayPath) => {
  it('moves a flow from a refusing first target to the second, takes the first down, and the probe brings it back', async () => {
    const [listen, deadPort] = (await freePorts(2)) as [number, number];
    const second = await startUdpEcho('second');
    // One shard: target health is per shard, and this test follows one shard's view.
    const { metrics } = await launchRawEdge(
      relayPath,
      `[[rules]]
name = "dns"
protocol = "udp"
listen = "127.0.0.1:${listen}"
targets = ["127.0.0.1:${deadPort}", "127.0.0.1:${second.port}"]
health_check_interval_secs = 0.2
connect_timeout_ms = 200
`,
      1,
    );
    const rule = async (): Promise<UdpRuleMetrics> => (await metrics.rule('dns')) as UdpRuleMetrics;

    // The first flow's only datagram reaches the second target: the refusal cost no datagram.
    const first = await udpClient();
    expect(await ask(first, listen, 'q0')).toBe('second:q0');
    let now = await rule();
    expect(now.failovers).toBe(1);
    expect(now.connect_errors.refused).toBe(1);

    // Two more flows refused by the first target take it down (3 failures within 30 s).
    for (const text of ['q1', 'q2'])
      expect(await ask(await udpClient(), listen, text)).toBe(`second:${text}`);
    now = await rule();
    expect(now.failovers).toBe(3);
    expect(now.targets).toEqual([
      { target: `127.0.0.1:${deadPort}`, up: false },
      { target: `127.0.0.1:${second.port}`, up: true },
    ]);
    expect(await metrics.text()).toMatch(
      new RegExp(`sluice_target_up\\{[^}]*rule="dns"[^}]*target="127.0.0.1:${deadPort}"[^}]*\\} 0`),
    );

    // Down, it comes last: a new flow goes straight to the second target, with no refusal.
    expect(await ask(await udpClient(), listen, 'q3')).toBe('second:q3');
    now = await rule();
    expect(now.failovers).toBe(3);
    expect(now.connect_errors.refused).toBe(3);

    // Once something listens there again, the probe finds no refusal and the target is up;
    // new flows go to it first again.
    const revived = await startUdpEcho('first', deadPort);
    await pollUntil(async () => (await rule()).targets[0]!.up, {
      timeoutMs: 10_000,
      what: 'the first target up again',
    });
    expect(await ask(await udpClient(), listen, 'q4')).toBe('first:q4');
    expect(revived.peers.size).toBeGreaterThan(0);
  });
});
