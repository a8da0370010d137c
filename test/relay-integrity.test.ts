// Bytes arrive intact: many connections at once, both directions at once, hashed on both ends;
// then the rule's byte counters equal exactly what was sent, and they move while a flow runs.

import { freePort, pollUntil, withTimeout } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { runCleanup } from './helpers/cleanup.ts';
import { EDGE_NAME } from './helpers/edge-config.ts';
import { launchEdge } from './helpers/edge-fixture.ts';
import { findSamples } from './helpers/metrics.ts';
import { type Digest, KIB, MIB, PayloadSink, sendPayload } from './helpers/payload.ts';
import { RELAY_PATHS } from './helpers/relay-paths.ts';
import { startTarget } from './helpers/target-server.ts';
import { connectTcp } from './helpers/tcp-client.ts';

afterEach(runCleanup);

interface Exchange {
  readonly sent: Digest;
  readonly received: Digest;
}

describe.each(RELAY_PATHS)('relay integrity (%s path)', (relayPath) => {
  it('relays 8 connections x 16 MiB each way at once byte for byte, and counts every byte', async () => {
    const CONNECTIONS = 8;
    const SIZE = 16 * MIB;
    // Each accepted connection writes its own stream while it reads the client's.
    const targetExchanges: Promise<Exchange>[] = [];
    const target = await startTarget(
      (socket, index) => {
        const received = new PayloadSink(socket).done;
        const sent = sendPayload(socket, `target-${index}`, SIZE);
        targetExchanges.push(Promise.all([sent, received]).then(([s, r]) => ({ sent: s, received: r })));
      },
      { allowHalfOpen: true },
    );
    const listenPort = await freePort();
    const { metrics } = await launchEdge({
      relayPath,
      config: { shards: 2, rules: [{ name: 'bulk', listenPort, targetPorts: [target.port] }] },
    });

    const clientExchanges = await withTimeout(
      Promise.all(
        Array.from({ length: CONNECTIONS }, async (_, i): Promise<Exchange> => {
          const socket = await connectTcp(listenPort, { allowHalfOpen: true });
          const received = new PayloadSink(socket).done;
          const [sent, got] = await Promise.all([sendPayload(socket, `client-${i}`, SIZE), received]);
          return { sent, received: got };
        }),
      ),
      90_000,
      `${CONNECTIONS} x ${SIZE} bytes each way`,
    );
    await pollUntil(() => targetExchanges.length === CONNECTIONS, {
      timeoutMs: 5_000,
      what: 'every target connection',
    });
    const targets = await withTimeout(Promise.all(targetExchanges), 10_000, 'target sides to finish');

    const matched = new Set<Exchange>();
    for (const client of clientExchanges) {
      expect(client.sent.bytes).toBe(SIZE);
      expect(client.received.bytes).toBe(SIZE);
      // The target connection that got this client's stream must have sent what this client got.
      const peer = targets.find((t) => t.received.sha256 === client.sent.sha256);
      expect(peer, `no target received client stream ${client.sent.sha256}`).toBeDefined();
      expect(peer!.received.bytes).toBe(SIZE);
      expect(client.received.sha256).toBe(peer!.sent.sha256);
      matched.add(peer!);
    }
    expect(matched.size).toBe(CONNECTIONS);

    const rule = await pollUntil(
      async () => {
        const r = await metrics.rule('bulk');
        return r.active_connections === 0 && r;
      },
      { timeoutMs: 10_000, what: 'active_connections of rule bulk to reach 0' },
    );
    expect(rule.state).toBe('active');
    expect(rule.connections_total).toBe(CONNECTIONS);
    expect(rule.bytes_in).toBe(CONNECTIONS * SIZE);
    expect(rule.bytes_out).toBe(CONNECTIONS * SIZE);
    // The per-shard rows add up to the rule's totals.
    const sum = (pick: (s: (typeof rule.shards)[number]) => number): number =>
      rule.shards.reduce((acc, s) => acc + pick(s), 0);
    expect(sum((s) => s.bytes_in)).toBe(rule.bytes_in);
    expect(sum((s) => s.bytes_out)).toBe(rule.bytes_out);
    expect(sum((s) => s.connections_total)).toBe(rule.connections_total);
    // The Prometheus form carries the same numbers.
    const samples = await metrics.samples();
    const value = (name: string): number[] =>
      findSamples(samples, name, { client: EDGE_NAME, rule: 'bulk', owner: 'default' }).map((s) => s.value);
    expect(value('sluice_rule_bytes_in_total')).toEqual([CONNECTIONS * SIZE]);
    expect(value('sluice_rule_bytes_out_total')).toEqual([CONNECTIONS * SIZE]);
    expect(value('sluice_rule_connections_total')).toEqual([CONNECTIONS]);
    expect(value('sluice_rule_active_connections')).toEqual([0]);
  });

  it('shows a running transfer in the counters while it runs (at least every 64 KiB)', async () => {
    const SIZE = 2 * MIB;
    const CHUNK = 32 * KIB;
    // 64 chunks, one every 25 ms: about 1.6 s on the wire.
    const target = await startTarget((socket) => {
      socket.resume();
      void sendPayload(socket, 'paced', SIZE, { chunkBytes: CHUNK, paceMs: 25 }).catch(() => {});
    });
    const listenPort = await freePort();
    const { metrics } = await launchEdge({
      relayPath,
      config: { shards: 1, rules: [{ name: 'live', listenPort, targetPorts: [target.port] }] },
    });
    const socket = await connectTcp(listenPort);
    let reachedHalf!: () => void;
    const half = new Promise<void>((resolve) => {
      reachedHalf = resolve;
    });
    const sink = new PayloadSink(socket, (bytes) => {
      if (bytes >= SIZE / 2) reachedHalf();
    });
    await withTimeout(half, 10_000, 'half the paced stream');
    const rule = await metrics.rule('live');
    const receivedAtCheck = sink.bytes;
    // Everything the client has read went through the edge; at most the last 64 KiB may be uncounted.
    expect(rule.bytes_out).toBeGreaterThanOrEqual(SIZE / 2 - 64 * KIB);
    expect(rule.active_connections).toBe(1);
    const done = await withTimeout(sink.done, 10_000, 'the paced stream');
    expect(receivedAtCheck).toBeLessThan(SIZE);
    expect(done.bytes).toBe(SIZE);
  });
});
