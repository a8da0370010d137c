// Targets named by DNS, resolved through a DNS server of the test's own on 127.0.0.1 (the edge's
// SLUICE_DNS_SERVERS): the answered address is used, a changed answer is followed once its TTL
// (clamped to at least 5 s) runs out, the last answer is served while the server fails, each
// address of a name is tried in turn, and a name that does not resolve resets the client and
// counts an unreachable connect error. DNS has nothing to do with the relay path: one is enough.

import { freePort, pollUntil } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { runCleanup } from './helpers/cleanup.ts';
import { findSamples, type RuleMetrics } from './helpers/metrics.ts';
import { launchRawEdge } from './helpers/raw-edge.ts';
import { RELAY_PATHS } from './helpers/relay-paths.ts';
import {
  directConnectError,
  dnsEnv,
  echoLine,
  endedBeforeTarget,
  openTagged,
  questionsFor,
  reachedTag,
  startTaggedTarget,
  startTaggedTargetsOnOnePort,
  startTestDns,
} from './helpers/tagged-target.ts';

afterEach(runCleanup);

const relayPath = RELAY_PATHS[0]!;

/** The JSON rule with the fields these tests read beyond the shared RuleMetrics. */
type HealthRule = RuleMetrics & {
  readonly failovers: number;
  readonly targets: readonly { readonly target: string; readonly up: boolean }[];
};

/** The tag of the target one connection reached, or `error: ...` when it failed (so polls see it). */
async function tagOrError(port: number): Promise<string> {
  try {
    return await reachedTag(port);
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

function tcpRule(name: string, listenPort: number, targets: readonly string[], extra = ''): string {
  const list = targets.map((target) => JSON.stringify(target)).join(', ');
  return `[[rules]]\nname = "${name}"\nlisten = "127.0.0.1:${listenPort}"\ntargets = [${list}]\n${extra}\n`;
}

describe(`DNS-named targets (${relayPath} path)`, () => {
  it('connects to the address the DNS server answers', async () => {
    const NAME = 'svc.sluice.test';
    // Only 127.0.0.2 has a server: nothing else the name could mean would answer.
    const [target] = await startTaggedTargetsOnOnePort(['127.0.0.2']);
    expect(await directConnectError('127.0.0.1', target!.port)).toBe('ECONNREFUSED');
    const dns = await startTestDns({ [NAME]: { a: ['127.0.0.2'], ttl: 60 } });
    const listenPort = await freePort();
    const { metrics } = await launchRawEdge(
      relayPath,
      tcpRule('named', listenPort, [`${NAME}:${target!.port}`]),
      2,
      dnsEnv(dns),
    );

    for (let i = 0; i < 6; i++) expect(await reachedTag(listenPort)).toBe('127.0.0.2');
    expect(target!.carried.length).toBe(6);
    // The edge asked our server.
    expect(questionsFor(dns, NAME)).toBeGreaterThanOrEqual(1);

    const rule = (await metrics.rule('named')) as HealthRule;
    expect(rule.connections_total).toBe(6);
    expect(rule.connect_errors).toMatchObject({ refused: 0, timeout: 0, unreachable: 0, reset: 0, other: 0 });
    expect(rule.targets).toEqual([{ target: `${NAME}:${target!.port}`, up: true }]);
  });

  it('follows a changed answer once its TTL (clamped to 5 s) runs out; open connections stay where they are', async () => {
    const NAME = 'moving.sluice.test';
    const [two, three] = await startTaggedTargetsOnOnePort(['127.0.0.2', '127.0.0.3']);
    const dns = await startTestDns({ [NAME]: { a: ['127.0.0.2'], ttl: 1 } });
    const listenPort = await freePort();
    const { metrics } = await launchRawEdge(
      relayPath,
      tcpRule('moving', listenPort, [`${NAME}:${two!.port}`]),
      1,
      dnsEnv(dns),
    );

    const startedAt = Date.now();
    const old = await openTagged(listenPort);
    expect(old.tag).toBe('127.0.0.2');
    const asked = questionsFor(dns, NAME);
    dns.set(NAME, { a: ['127.0.0.3'], ttl: 1 });
    // A TTL of 1 s is held for the 5 s minimum: a connection right away still uses the old answer.
    expect(await reachedTag(listenPort)).toBe('127.0.0.2');
    expect(questionsFor(dns, NAME)).toBe(asked);

    const seen: string[] = [];
    const switchedAfterMs = await pollUntil(
      async () => {
        const tag = await tagOrError(listenPort);
        seen.push(tag);
        return tag === '127.0.0.3' && Date.now() - startedAt;
      },
      { timeoutMs: 10_000, intervalMs: 250, what: 'a new connection to reach 127.0.0.3' },
    );
    // Not before the clamped TTL ran out, and promptly after it.
    expect(switchedAfterMs).toBeGreaterThanOrEqual(4_900);
    expect(switchedAfterMs).toBeLessThan(8_000);
    // Until the switch every connection went to the old address, and after it none does.
    expect(new Set(seen.slice(0, -1))).toEqual(new Set(['127.0.0.2']));
    for (let i = 0; i < 3; i++) expect(await reachedTag(listenPort)).toBe('127.0.0.3');
    expect(questionsFor(dns, NAME)).toBeGreaterThan(asked);

    // The connection opened before the change still runs to 127.0.0.2.
    await echoLine(old.socket, 'old-connection-still-relayed');
    expect(old.socket.destroyed).toBe(false);
    expect(three!.carried.length).toBe(4);
    expect(two!.carried.length).toBe(2 + seen.length - 1);

    const rule = await metrics.rule('moving');
    expect(rule.connect_errors).toMatchObject({ refused: 0, unreachable: 0 });
    expect(rule.active_connections).toBe(1);
    old.socket.destroy();
  });

  it('keeps using the last answer while the DNS server fails, and takes a new one once it answers again', async () => {
    const NAME = 'stale.sluice.test';
    const [two, three] = await startTaggedTargetsOnOnePort(['127.0.0.2', '127.0.0.3']);
    const dns = await startTestDns({ [NAME]: { a: ['127.0.0.2'], ttl: 1 } });
    const listenPort = await freePort();
    const { metrics } = await launchRawEdge(
      relayPath,
      tcpRule('stale', listenPort, [`${NAME}:${two!.port}`]),
      1,
      dnsEnv(dns),
    );

    expect(await reachedTag(listenPort)).toBe('127.0.0.2');
    const asked = questionsFor(dns, NAME);
    expect(asked).toBeGreaterThanOrEqual(1);
    dns.set(NAME, 'servfail');

    // New connections keep coming; once the answer has expired (5 s) the edge asks again, is
    // told SERVFAIL, and serves the old answer.
    const tags: string[] = [];
    await pollUntil(
      async () => {
        tags.push(await tagOrError(listenPort));
        return questionsFor(dns, NAME) > asked;
      },
      { timeoutMs: 10_000, intervalMs: 250, what: `the edge to ask ${NAME} again after the TTL` },
    );
    for (let i = 0; i < 3; i++) tags.push(await tagOrError(listenPort));
    expect(tags).toEqual(tags.map(() => '127.0.0.2'));
    expect(two!.carried.length).toBe(1 + tags.length);
    let rule = await metrics.rule('stale');
    expect(rule.connect_errors).toMatchObject({ refused: 0, unreachable: 0, timeout: 0, other: 0 });
    expect(rule.connections_total).toBe(1 + tags.length);

    // A server that does not answer at all is served stale just the same, and at once: while
    // refreshes are failing no connection waits for the resolver's timeout (about 2 s).
    dns.set(NAME, 'drop');
    const dropFrom = dns.questions.length;
    const duringDrop: string[] = [];
    let slowestMs = 0;
    const timed = async (): Promise<void> => {
      const started = Date.now();
      duringDrop.push(await tagOrError(listenPort));
      slowestMs = Math.max(slowestMs, Date.now() - started);
    };
    await pollUntil(
      async () => {
        await timed();
        return dns.questions.slice(dropFrom).some((q) => q.name === NAME);
      },
      { timeoutMs: 10_000, intervalMs: 250, what: `a query for ${NAME} the server drops` },
    );
    for (let i = 0; i < 3; i++) await timed();
    expect(duringDrop).toEqual(duringDrop.map(() => '127.0.0.2'));
    expect(slowestMs).toBeLessThan(1_200);

    // The server answers again, with another address: a later refresh takes it.
    dns.set(NAME, { a: ['127.0.0.3'], ttl: 60 });
    const recovering: string[] = [];
    await pollUntil(
      async () => {
        recovering.push(await tagOrError(listenPort));
        return recovering.at(-1) === '127.0.0.3';
      },
      {
        timeoutMs: 10_000,
        intervalMs: 250,
        what: 'a connection to reach 127.0.0.3 once the DNS server answers again',
      },
    );
    // Stale until then: no connection failed on the way.
    expect(recovering.slice(0, -1)).toEqual(recovering.slice(0, -1).map(() => '127.0.0.2'));
    expect(three!.carried.length).toBe(1);
    rule = await metrics.rule('stale');
    expect(rule.connect_errors).toMatchObject({ refused: 0, unreachable: 0, timeout: 0, other: 0 });
  });

  it('tries each address of a name in turn: a refusing first address is counted, the second carries the connection', async () => {
    const NAME = 'multi.sluice.test';
    const three = await startTaggedTarget('127.0.0.3', 0);
    expect(await directConnectError('127.0.0.2', three.port)).toBe('ECONNREFUSED');
    const dns = await startTestDns({ [NAME]: { a: ['127.0.0.2', '127.0.0.3'], ttl: 60 } });
    const listenPort = await freePort();
    const { metrics } = await launchRawEdge(
      relayPath,
      tcpRule('multi', listenPort, [`${NAME}:${three.port}`]),
      1,
      dnsEnv(dns),
    );

    for (let i = 1; i <= 4; i++) {
      expect(await reachedTag(listenPort)).toBe('127.0.0.3');
      const rule = (await metrics.rule('multi')) as HealthRule;
      // Every connection tries 127.0.0.2 first (the answer's order) and is refused there.
      expect(rule.connect_errors).toMatchObject({ refused: i, unreachable: 0, timeout: 0 });
      // Another address of the same target is not a failover, and the target is not failing.
      expect(rule.failovers).toBe(0);
      expect(rule.targets).toEqual([{ target: `${NAME}:${three.port}`, up: true }]);
    }
    expect(three.carried.length).toBe(4);
    const samples = await metrics.samples();
    expect(findSamples(samples, 'sluice_target_up', { rule: 'multi' }).map((s) => s.value)).toEqual([1]);
    expect(
      findSamples(samples, 'sluice_rule_connect_errors_total', { rule: 'multi', reason: 'refused' })[0]
        ?.value,
    ).toBe(4);
  });

  it('the active probe tries every address of a name: a down target whose second address comes back is up again', async () => {
    const NAME = 'two.sluice.test';
    const live = await startTaggedTarget('127.0.0.1', 0, 'live');
    const port = await freePort();
    expect(await directConnectError('127.0.0.2', port)).toBe('ECONNREFUSED');
    expect(await directConnectError('127.0.0.3', port)).toBe('ECONNREFUSED');
    const dns = await startTestDns({ [NAME]: { a: ['127.0.0.2', '127.0.0.3'], ttl: 60 } });
    const listenPort = await freePort();
    const { metrics } = await launchRawEdge(
      relayPath,
      tcpRule(
        'probed',
        listenPort,
        [`${NAME}:${port}`, `127.0.0.1:${live.port}`],
        'health_check_interval_secs = 0.2',
      ),
      1,
      dnsEnv(dns),
    );
    // Three connections fail over past both addresses: the named target goes down.
    for (let i = 0; i < 3; i++) expect(await reachedTag(listenPort)).toBe('live');
    expect(((await metrics.rule('probed')) as HealthRule).targets[0]?.up).toBe(false);
    // Only the second address comes back; the probe finds it there.
    const three = await startTaggedTarget('127.0.0.3', port, 'three');
    await pollUntil(async () => ((await metrics.rule('probed')) as HealthRule).targets[0]?.up === true, {
      timeoutMs: 5_000,
      what: 'the named target to be probed back up through its second address',
    });
    expect(await reachedTag(listenPort)).toBe('three');
    expect(three.carried.length).toBe(1);
  });

  it('resets the client and counts an unreachable connect error when the name does not resolve; other rules go on', async () => {
    const BROKEN = 'broken.sluice.test';
    const GOOD = 'good.sluice.test';
    const [good] = await startTaggedTargetsOnOnePort(['127.0.0.2']);
    // SERVFAIL rather than NXDOMAIN: a name DNS says does not exist is also looked up through
    // getaddrinfo (/etc/hosts), which may ask the system's resolver, off loopback.
    const dns = await startTestDns({ [BROKEN]: 'servfail', [GOOD]: { a: ['127.0.0.2'], ttl: 60 } });
    const [brokenPort, goodPort] = [await freePort(), await freePort()];
    const { metrics } = await launchRawEdge(
      relayPath,
      tcpRule('broken', brokenPort, [`${BROKEN}:${good!.port}`]) +
        tcpRule('good', goodPort, [`${GOOD}:${good!.port}`]),
      1,
      dnsEnv(dns),
    );

    expect(await endedBeforeTarget(brokenPort)).toBe('ECONNRESET');
    let broken = await metrics.rule('broken');
    expect(broken.connect_errors).toMatchObject({ unreachable: 1, refused: 0, timeout: 0, other: 0 });
    expect(broken.connections_total).toBe(1);
    expect(questionsFor(dns, BROKEN)).toBeGreaterThanOrEqual(1);

    expect(await reachedTag(goodPort)).toBe('127.0.0.2');
    expect(await endedBeforeTarget(brokenPort)).toBe('ECONNRESET');
    expect(await reachedTag(goodPort)).toBe('127.0.0.2');

    broken = await metrics.rule('broken');
    expect(broken.connect_errors).toMatchObject({ unreachable: 2, refused: 0 });
    expect(broken.active_connections).toBe(0);
    const goodRule = await metrics.rule('good');
    expect(goodRule.connections_total).toBe(2);
    expect(goodRule.connect_errors).toMatchObject({ unreachable: 0, refused: 0 });
    expect(good!.carried.length).toBe(2);
    const samples = await metrics.samples();
    expect(
      findSamples(samples, 'sluice_rule_connect_errors_total', { rule: 'broken', reason: 'unreachable' })[0]
        ?.value,
    ).toBe(2);
  });
});
