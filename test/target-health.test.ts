// Target health, with one shard so the health one shard keeps is the whole story: a target goes
// down after 3 failed connects (each counted, each failing over), connections then go straight to
// the healthy ones; the active probe brings it back after 2 good checks; with every target down
// the first is still tried, and 2 good connections bring it back without a probe; round-robin
// rotates over the healthy targets only. Shown in sluice_target_up{target}, JSON targets[].up,
// sluice_rule_failovers_total and connect_errors.

import { freePorts, pollUntil } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { runCleanup } from './helpers/cleanup.ts';
import { findSamples, type MetricsClient, type RuleMetrics } from './helpers/metrics.ts';
import { launchRawEdge } from './helpers/raw-edge.ts';
import { RELAY_PATHS } from './helpers/relay-paths.ts';
import { endedBeforeTarget, reachedTag, startTaggedTarget } from './helpers/tagged-target.ts';

afterEach(runCleanup);

type HealthRule = RuleMetrics & {
  readonly failovers: number;
  readonly targets: readonly { readonly target: string; readonly up: boolean }[];
};

function tcpRule(name: string, listenPort: number, targetPorts: readonly number[], extra = ''): string {
  const list = targetPorts.map((port) => `"127.0.0.1:${port}"`).join(', ');
  return `[[rules]]\nname = "${name}"\nlisten = "127.0.0.1:${listenPort}"\ntargets = [${list}]\n${extra}\n`;
}

async function healthRule(metrics: MetricsClient, name: string): Promise<HealthRule> {
  return (await metrics.rule(name)) as HealthRule;
}

/** sluice_target_up for each target port of the rule, from the Prometheus text. */
async function targetUp(metrics: MetricsClient, rule: string, ports: readonly number[]): Promise<number[]> {
  const samples = await metrics.samples();
  return ports.map((port) => {
    const found = findSamples(samples, 'sluice_target_up', { rule, target: `127.0.0.1:${port}` });
    if (found.length !== 1)
      throw new Error(`expected one sluice_target_up{target="127.0.0.1:${port}"}, got ${found.length}`);
    return found[0]!.value;
  });
}

async function failoversTotal(metrics: MetricsClient, rule: string): Promise<number | undefined> {
  return findSamples(await metrics.samples(), 'sluice_rule_failovers_total', { rule })[0]?.value;
}

describe.each(RELAY_PATHS)('target health (%s path)', (relayPath) => {
  it('passive: 3 failed connects take a target down; later connections go straight to the healthy one', async () => {
    const live = await startTaggedTarget('127.0.0.1', 0, 'live');
    const [listenPort, deadPort] = await freePorts(2);
    const { metrics } = await launchRawEdge(
      relayPath,
      tcpRule('passive', listenPort!, [deadPort!, live.port], 'balance = "failover"'),
      1,
    );
    expect(await targetUp(metrics, 'passive', [deadPort!, live.port])).toEqual([1, 1]);

    for (let i = 1; i <= 3; i++) {
      // Each of the first three tries the dead target first, is refused, and fails over.
      expect(await reachedTag(listenPort!)).toBe('live');
      const rule = await healthRule(metrics, 'passive');
      expect(rule.connect_errors.refused).toBe(i);
      expect(rule.failovers).toBe(i);
      expect(rule.targets).toEqual([
        { target: `127.0.0.1:${deadPort}`, up: i < 3 },
        { target: `127.0.0.1:${live.port}`, up: true },
      ]);
    }

    // Down now: no more tries of it, so no more refusals and no more failovers.
    for (let i = 0; i < 4; i++) expect(await reachedTag(listenPort!)).toBe('live');
    const rule = await healthRule(metrics, 'passive');
    expect(rule.connect_errors).toMatchObject({ refused: 3, timeout: 0, unreachable: 0, other: 0 });
    expect(rule.failovers).toBe(3);
    expect(rule.connections_total).toBe(7);
    expect(live.carried.length).toBe(7);
    expect(rule.targets).toEqual([
      { target: `127.0.0.1:${deadPort}`, up: false },
      { target: `127.0.0.1:${live.port}`, up: true },
    ]);
    expect(await targetUp(metrics, 'passive', [deadPort!, live.port])).toEqual([0, 1]);
    expect(await failoversTotal(metrics, 'passive')).toBe(3);
    const refused = findSamples(await metrics.samples(), 'sluice_rule_connect_errors_total', {
      rule: 'passive',
      reason: 'refused',
    });
    expect(refused.map((s) => s.value)).toEqual([3]);
  });

  it('active probe: a down target that starts listening is back after 2 good checks and first in line again', async () => {
    const live = await startTaggedTarget('127.0.0.1', 0, 'live');
    const [listenPort, deadPort] = await freePorts(2);
    const { metrics } = await launchRawEdge(
      relayPath,
      tcpRule('probed', listenPort!, [deadPort!, live.port], 'health_check_interval_secs = 0.2'),
      1,
    );

    for (let i = 0; i < 3; i++) expect(await reachedTag(listenPort!)).toBe('live');
    expect(await targetUp(metrics, 'probed', [deadPort!, live.port])).toEqual([0, 1]);
    // Failing probes keep it down.
    expect(await reachedTag(listenPort!)).toBe('live');
    expect((await healthRule(metrics, 'probed')).failovers).toBe(3);

    // It comes back: nothing but the probe connects to it, twice, and it is up.
    const revived = await startTaggedTarget('127.0.0.1', deadPort!, 'revived');
    await pollUntil(async () => (await targetUp(metrics, 'probed', [deadPort!, live.port]))[0] === 1, {
      timeoutMs: 5_000,
      what: `sluice_target_up{target="127.0.0.1:${deadPort}"} back to 1`,
    });
    await pollUntil(() => revived.accepted.length >= 2, {
      timeoutMs: 2_000,
      what: 'the two probe connections',
    });
    expect(revived.carried.length).toBe(0);
    expect((await healthRule(metrics, 'probed')).targets[0]).toEqual({
      target: `127.0.0.1:${deadPort}`,
      up: true,
    });

    // New connections go to it first again, with no failover; up targets are not probed.
    for (let i = 0; i < 3; i++) expect(await reachedTag(listenPort!)).toBe('revived');
    expect(revived.accepted.length).toBe(2 + 3);
    expect(revived.carried.length).toBe(3);
    expect(live.carried.length).toBe(4);
    expect((await healthRule(metrics, 'probed')).failovers).toBe(3);
    expect(await failoversTotal(metrics, 'probed')).toBe(3);
  });

  it('all targets down: the first is still tried, so a comeback is used at once and 2 good connects mark it up', async () => {
    const [listenPort, onlyPort] = await freePorts(2);
    const { metrics } = await launchRawEdge(relayPath, tcpRule('lonely', listenPort!, [onlyPort!]), 1);

    for (let i = 1; i <= 3; i++) {
      expect(await endedBeforeTarget(listenPort!)).toBe('ECONNRESET');
      expect((await healthRule(metrics, 'lonely')).connect_errors.refused).toBe(i);
    }
    expect(await targetUp(metrics, 'lonely', [onlyPort!])).toEqual([0]);
    // Down, and still tried: each connection is refused there again.
    expect(await endedBeforeTarget(listenPort!)).toBe('ECONNRESET');
    expect((await healthRule(metrics, 'lonely')).connect_errors.refused).toBe(4);

    // No probe: the target comes back and the very next connection reaches it.
    const back = await startTaggedTarget('127.0.0.1', onlyPort!, 'back');
    expect(await reachedTag(listenPort!)).toBe('back');
    let rule = await healthRule(metrics, 'lonely');
    expect(rule.connect_errors.refused).toBe(4);
    expect(rule.failovers).toBe(0);
    // One success is not enough to count it up ...
    expect(rule.targets).toEqual([{ target: `127.0.0.1:${onlyPort}`, up: false }]);
    expect(await targetUp(metrics, 'lonely', [onlyPort!])).toEqual([0]);
    // ... the second is.
    expect(await reachedTag(listenPort!)).toBe('back');
    rule = await healthRule(metrics, 'lonely');
    expect(rule.targets).toEqual([{ target: `127.0.0.1:${onlyPort}`, up: true }]);
    expect(await targetUp(metrics, 'lonely', [onlyPort!])).toEqual([1]);
    expect(back.carried.length).toBe(2);
    expect(rule.connections_total).toBe(6);
  });

  it('round-robin with one target down rotates over the healthy ones only', async () => {
    const first = await startTaggedTarget('127.0.0.1', 0, 'first');
    const third = await startTaggedTarget('127.0.0.1', 0, 'third');
    const [listenPort, deadPort] = await freePorts(2);
    const { metrics } = await launchRawEdge(
      relayPath,
      tcpRule('rr', listenPort!, [first.port, deadPort!, third.port], 'balance = "round-robin"'),
      1,
    );

    // While the dead target is still up its turns fail over; its third failure takes it down.
    const before: string[] = [];
    await pollUntil(
      async () => {
        before.push(await reachedTag(listenPort!).catch((err: Error) => `error: ${err.message}`));
        return (await healthRule(metrics, 'rr')).connect_errors.refused === 3;
      },
      { timeoutMs: 10_000, intervalMs: 0, what: 'three refused connects to the dead target' },
    );
    // Every connection reached a live target.
    expect(before.filter((tag) => tag !== 'first' && tag !== 'third')).toEqual([]);
    // Three turns in each rotation of three: the dead one's turn went to another target.
    expect(before.length).toBeGreaterThanOrEqual(7);
    expect(before.length).toBeLessThanOrEqual(9);
    expect(await targetUp(metrics, 'rr', [first.port, deadPort!, third.port])).toEqual([1, 0, 1]);
    const failoversBefore = (await healthRule(metrics, 'rr')).failovers;
    expect(failoversBefore).toBe(3);

    const after: string[] = [];
    for (let i = 0; i < 10; i++) after.push(await reachedTag(listenPort!));
    // Strict alternation between the two healthy targets, no connect to the dead one.
    for (let i = 1; i < after.length; i++) expect(after[i]).not.toBe(after[i - 1]);
    expect(after.filter((tag) => tag === 'first').length).toBe(5);
    expect(after.filter((tag) => tag === 'third').length).toBe(5);
    const rule = await healthRule(metrics, 'rr');
    expect(rule.connect_errors.refused).toBe(3);
    expect(rule.failovers).toBe(3);
    expect(rule.connections_total).toBe(before.length + 10);
    expect(first.carried.length + third.carried.length).toBe(before.length + 10);
  });
});
