// SIGHUP re-reads the file: an unchanged rule's live transfer goes on intact, a removed rule
// stops accepting while its open connection drains, a new rule binds; an invalid file is
// rejected and changes nothing.

import { freePorts, pollUntil, withTimeout } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { runCleanup } from './helpers/cleanup.ts';
import type { EdgeConfig } from './helpers/edge-config.ts';
import { launchEdge } from './helpers/edge-fixture.ts';
import { KIB, MIB, PayloadSink, payloadDigest, sendPayload } from './helpers/payload.ts';
import { RELAY_PATHS } from './helpers/relay-paths.ts';
import { startEchoTarget, startTarget } from './helpers/target-server.ts';
import { connectError, connectTcp, echoOnce, echoRoundTrip } from './helpers/tcp-client.ts';

afterEach(runCleanup);

describe.each(RELAY_PATHS)('reload on SIGHUP (%s path)', (relayPath) => {
  it('adds and removes rules without breaking another rule’s live transfer; rejects a bad file', async () => {
    const STREAM = 3 * MIB;
    const SHORT = 64 * KIB;
    // Rule A's target streams 3 MiB paced over about 3 s (48 chunks, one every 60 ms) on its
    // first connection, and a short unpaced stream on later ones.
    const streamer = await startTarget((socket, index) => {
      socket.resume();
      const send =
        index === 0
          ? sendPayload(socket, 'stream-a', STREAM, { chunkBytes: 64 * KIB, paceMs: 60 })
          : sendPayload(socket, 'short-a', SHORT);
      send.catch(() => {});
    });
    const echo = await startEchoTarget();
    const [portA, portB, portC] = (await freePorts(3)) as [number, number, number];
    const ruleA = { name: 'a', listenPort: portA, targetPorts: [streamer.port] };
    const ruleB = { name: 'b', listenPort: portB, targetPorts: [echo.port] };
    const ruleC = { name: 'c', listenPort: portC, targetPorts: [echo.port] };
    const base: Omit<EdgeConfig, 'metricsPort' | 'rules'> = { shards: 2, drainTimeoutSecs: 30 };
    const { edge, metrics, rewrite } = await launchEdge({
      relayPath,
      config: { ...base, rules: [ruleA, ruleB] },
    });

    // A connection on B, open before B is removed, must drain rather than break.
    const onB = await connectTcp(portB);
    await echoOnce(onB, 'b-before');
    expect(await connectError(portC)).toBe('ECONNREFUSED');

    const streamClient = await connectTcp(portA);
    const streamed = new PayloadSink(streamClient);
    await pollUntil(() => streamed.bytes >= 256 * KIB, { timeoutMs: 5_000, what: 'rule A stream to flow' });

    const beforeReload = edge.mark();
    rewrite({ ...base, rules: [ruleA, ruleC] });
    edge.signal('SIGHUP');
    await edge.waitForMsg('reload applied', {}, 5_000, beforeReload);
    const receivedAtReload = streamed.bytes;
    // C is the one rule the reload binds.
    await edge.waitForMsg('rules active', { rules: 1, failed: 0 }, 1_000, beforeReload);
    // Rule A was neither removed nor re-bound.
    const aboutA = edge.logs.slice(beforeReload).filter((log) => log.rule === 'a');
    expect(aboutA.filter((log) => log.msg === 'rule removed' || log.msg === 'rule failed')).toEqual([]);

    await pollUntil(async () => (await connectError(portB)) === 'ECONNREFUSED', {
      timeoutMs: 2_000,
      what: 'removed rule B to refuse new connections',
    });
    await echoRoundTrip(portC, 'c-after-reload');
    await echoOnce(onB, 'b-draining');
    const rules = (await metrics.json()).rules;
    expect(rules.find((r) => r.name === 'a')?.state).toBe('active');
    expect(rules.find((r) => r.name === 'c')?.state).toBe('active');
    expect(rules.find((r) => r.name === 'b')?.state ?? 'draining').toBe('draining');
    // Once its last connection is gone, B is removed for good.
    onB.destroy();
    await edge.waitForMsg('rule removed', { rule: 'b' }, 5_000, beforeReload);
    await pollUntil(async () => (await metrics.json()).rules.every((r) => r.name !== 'b'), {
      timeoutMs: 3_000,
      what: 'rule b to leave /metrics?format=json',
    });

    // The live transfer spanned the reload and arrives intact.
    expect(receivedAtReload).toBeLessThan(STREAM);
    const got = await withTimeout(streamed.done, 15_000, 'rule A stream to finish');
    expect(got).toEqual(payloadDigest(['stream-a', STREAM]));

    // An invalid file is rejected and changes nothing.
    const beforeBad = edge.mark();
    rewrite(
      [
        'name = "e2e-edge"',
        'shards = 2',
        `metrics = "127.0.0.1:${metrics.port}"`,
        '[[rules]]',
        'name = "a"',
        'listen = "127.0.0.1:not-a-port"',
        `targets = ["127.0.0.1:${streamer.port}"]`,
        '',
      ].join('\n'),
    );
    edge.signal('SIGHUP');
    const rejected = await edge.waitForMsg('reload rejected', {}, 5_000, beforeBad);
    expect(rejected.err).toMatchObject({ code: 'config_invalid' });
    expect(String((rejected.err as { message?: unknown }).message)).toContain('rules[0].listen');
    await echoRoundTrip(portC, 'c-after-rejected');
    const second = await connectTcp(portA);
    const secondStream = await withTimeout(new PayloadSink(second).done, 15_000, 'a new stream on rule A');
    expect(secondStream).toEqual(payloadDigest(['short-a', SHORT]));
    expect(await connectError(portB)).toBe('ECONNREFUSED');
    expect(edge.logs.slice(beforeBad).filter((log) => log.msg === 'reload applied')).toEqual([]);
  });
});
