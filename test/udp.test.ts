// UDP through the edge: many clients at once each get their own flow and only their own
// replies; flows end when idle or when the target answers with ICMP; the rule-wide flow cap
// drops (and counts) new clients without evicting anyone; a bandwidth cap drops datagrams over
// budget. Every test runs on both paths: the addon's batched flow path (splice) and node:dgram (js).

import { createSocket } from 'node:dgram';
import { parseProxyHeader } from '@sluice/core/proxy-protocol';
import { freePorts, pollUntil, udpBurst } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { deferCleanup, runCleanup } from './helpers/cleanup.ts';
import type { RuleMetrics } from './helpers/metrics.ts';
import { launchRawEdge } from './helpers/raw-edge.ts';
import { UDP_PATHS } from './helpers/relay-paths.ts';
import { startUdpEcho, udpClient } from './helpers/udp.ts';

afterEach(runCleanup);

type UdpRule = RuleMetrics & {
  udp: {
    packets_in: number;
    packets_out: number;
    active_flows: number;
    flows_dropped: number;
    datagrams_dropped: number;
    receive_buffer_drops: number;
  };
};

function udpRule(name: string, listen: number, target: number, extra = ''): string {
  return `[[rules]]\nname = "${name}"\nprotocol = "udp"\nlisten = "127.0.0.1:${listen}"\ntargets = ["127.0.0.1:${target}"]\n${extra}\n`;
}

describe.each(UDP_PATHS)('UDP relay (%s path)', (relayPath) => {
  it('gives each of many clients its own flow, and each gets exactly its own replies', async () => {
    const CLIENTS = 40;
    const EACH = 25;
    const echo = await startUdpEcho('t');
    const [port] = (await freePorts(1)) as [number];
    const { metrics } = await launchRawEdge(relayPath, udpRule('u', port, echo.port));
    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => udpClient()));
    // Every client sends at once, round after round. A round waits for its replies: a burst of
    // 1000 datagrams would overflow the target's socket buffer, and UDP may drop then.
    for (let i = 0; i < EACH; i++) {
      await Promise.all(clients.map((client, c) => client.send(`c${c}-${i}`, port)));
      await pollUntil(() => clients.every((client) => client.replies.length === i + 1), {
        timeoutMs: 5_000,
        what: `round ${i} replies to every client`,
      });
    }
    clients.forEach((client, c) => {
      const got = client.replies.map((reply) => reply.toString()).sort();
      const want = Array.from({ length: EACH }, (_, i) => `t:c${c}-${i}`).sort();
      expect(got).toEqual(want);
    });
    // One upstream socket per flow: the target saw as many peers as there were clients.
    expect(echo.peers.size).toBe(CLIENTS);
    const rule = (await metrics.rule('u')) as UdpRule;
    expect(rule.connections_total).toBe(CLIENTS);
    expect(rule.udp).toMatchObject({
      packets_in: CLIENTS * EACH,
      packets_out: CLIENTS * EACH,
      active_flows: CLIENTS,
    });
    expect(rule.bytes_in).toBe(
      clients.reduce(
        (n, _, c) =>
          n + Array.from({ length: EACH }, (_, i) => `c${c}-${i}`.length).reduce((a, b) => a + b, 0),
        0,
      ),
    );
    const text = await metrics.text();
    expect(text).toMatch(/sluice_rule_packets_in_total\{[^}]*rule="u"[^}]*\} 1000/);
    expect(text).toMatch(/sluice_rule_active_flows\{[^}]*rule="u"[^}]*\} 40/);
  });

  it('holds 10,000 concurrent flows, each with its own upstream socket and only its own replies', async () => {
    const FLOWS = 10_000;
    // A round's datagrams all land in the target's one socket buffer at once: 100 fit.
    const ROUND = 100;
    const echo = await startUdpEcho('t');
    const [port] = (await freePorts(1)) as [number];
    const { metrics } = await launchRawEdge(
      relayPath,
      udpRule('u', port, echo.port, `max_flows = ${FLOWS}\nidle_timeout_secs = 600`),
      1,
    );
    const clients = await Promise.all(Array.from({ length: FLOWS }, () => udpClient()));
    // Two datagrams per client, in rounds small enough for the sockets' buffers; the second
    // pass finds every flow still open (the target sees no new source port).
    for (const pass of [0, 1]) {
      for (let first = 0; first < FLOWS; first += ROUND) {
        const round = clients.slice(first, first + ROUND);
        await Promise.all(round.map((client, i) => client.send(`c${first + i}-${pass}`, port)));
        await pollUntil(() => round.every((client) => client.replies.length === pass + 1), {
          timeoutMs: 10_000,
          what: `pass ${pass} replies to clients ${first}-${first + ROUND - 1}`,
        });
      }
    }
    clients.forEach((client, c) => {
      expect(client.replies.map(String)).toEqual([`t:c${c}-0`, `t:c${c}-1`]);
    });
    expect(echo.peers.size).toBe(FLOWS);
    const rule = (await metrics.rule('u')) as UdpRule;
    expect(rule.connections_total).toBe(FLOWS);
    expect(rule.udp).toMatchObject({
      packets_in: 2 * FLOWS,
      packets_out: 2 * FLOWS,
      active_flows: FLOWS,
      flows_dropped: 0,
    });
  }, 180_000);

  it('ends an idle flow after idle_timeout_secs; the next datagram starts a new one', async () => {
    const echo = await startUdpEcho('t');
    const [port] = (await freePorts(1)) as [number];
    const { metrics } = await launchRawEdge(
      relayPath,
      udpRule('u', port, echo.port, 'idle_timeout_secs = 0.4'),
    );
    const client = await udpClient();
    await client.send('one', port);
    await pollUntil(() => client.replies.length === 1, { timeoutMs: 5_000, what: 'first reply' });
    expect(((await metrics.rule('u')) as UdpRule).udp.active_flows).toBe(1);
    await pollUntil(async () => ((await metrics.rule('u')) as UdpRule).udp.active_flows === 0, {
      timeoutMs: 5_000,
      what: 'the idle flow to end',
    });
    await client.send('two', port);
    await pollUntil(() => client.replies.length === 2, { timeoutMs: 5_000, what: 'second reply' });
    const rule = (await metrics.rule('u')) as UdpRule;
    expect(rule.connections_total).toBe(2);
    // A new flow means a new upstream socket: the target saw two source ports.
    expect(echo.peers.size).toBe(2);
  });

  it('ends a flow at once when the target answers with ICMP port unreachable', async () => {
    const [port, closedPort] = (await freePorts(2)) as [number, number];
    const { metrics } = await launchRawEdge(
      relayPath,
      udpRule('u', port, closedPort, 'idle_timeout_secs = 60'),
    );
    const client = await udpClient();
    await client.send('anyone?', port);
    await pollUntil(async () => (await metrics.rule('u')).connections_total === 1, {
      timeoutMs: 5_000,
      what: 'the flow',
    });
    // Nothing listens on closedPort: the kernel answers ICMP, and the flow ends long before 60 s.
    await pollUntil(async () => ((await metrics.rule('u')) as UdpRule).udp.active_flows === 0, {
      timeoutMs: 5_000,
      what: 'the flow to end on ICMP',
    });
    expect(client.replies).toEqual([]);
  });

  it('caps the flow table rule-wide: new clients over max_flows are dropped and counted, none evicted', async () => {
    const echo = await startUdpEcho('t');
    const [port] = (await freePorts(1)) as [number];
    const { metrics } = await launchRawEdge(relayPath, udpRule('u', port, echo.port, 'max_flows = 5'));
    const clients = await Promise.all(Array.from({ length: 8 }, () => udpClient()));
    for (const client of clients) await client.send('hello', port);
    await pollUntil(
      async () => {
        const rule = (await metrics.rule('u')) as UdpRule;
        return rule.udp.active_flows === 5 && rule.udp.flows_dropped === 3;
      },
      { timeoutMs: 5_000, what: '5 flows and 3 drops' },
    );
    await pollUntil(() => clients.filter((c) => c.replies.length === 1).length === 5, {
      timeoutMs: 5_000,
      what: 'replies to the 5 admitted clients',
    });
    // The admitted flows keep working; the refused clients stay refused while the table is full.
    const admitted = clients.filter((c) => c.replies.length === 1);
    const refused = clients.filter((c) => c.replies.length === 0);
    for (const client of admitted) await client.send('again', port);
    for (const client of refused) await client.send('again', port);
    await pollUntil(() => admitted.every((c) => c.replies.length === 2), {
      timeoutMs: 5_000,
      what: 'second replies',
    });
    expect(refused.every((c) => c.replies.length === 0)).toBe(true);
    expect(((await metrics.rule('u')) as UdpRule).udp.flows_dropped).toBe(6);
  });

  it('drops datagrams over the bandwidth budget and counts them', async () => {
    const echo = await startUdpEcho('t');
    const [port] = (await freePorts(1)) as [number];
    // 8 KB/s in, with a 4 KB burst: of 20 datagrams of 1000 bytes sent at once, 4 fit.
    const { metrics } = await launchRawEdge(
      relayPath,
      udpRule('u', port, echo.port, 'limits = { bandwidth_in = "64Kbit", burst = "32Kbit" }'),
    );
    const client = await udpClient();
    for (let i = 0; i < 20; i++) await client.send(Buffer.alloc(1000, i), port);
    await pollUntil(
      async () => {
        const rule = (await metrics.rule('u')) as UdpRule;
        return rule.udp.packets_in + rule.udp.datagrams_dropped === 20;
      },
      { timeoutMs: 5_000, what: 'all 20 datagrams accounted for' },
    );
    const rule = (await metrics.rule('u')) as UdpRule;
    // The burst, plus whatever the rate earned while the 20 sends went out (a few ms).
    expect(rule.udp.packets_in).toBeGreaterThanOrEqual(4);
    expect(rule.udp.packets_in).toBeLessThanOrEqual(5);
    expect(rule.udp.datagrams_dropped).toBe(20 - rule.udp.packets_in);
  });

  it('exports what the kernel dropped on a full receive buffer, every datagram accounted for', async () => {
    const BURST = 3000;
    // A target that never answers: replies would meet the flow's own 4 KiB buffer and count too.
    const sink = createSocket('udp4');
    await new Promise<void>((resolve) => sink.bind(0, '127.0.0.1', resolve));
    deferCleanup(() => sink.close());
    const [port] = (await freePorts(1)) as [number];
    // A 4 KiB buffer queues a few datagrams; a burst from a tight loop outruns one shard.
    const { metrics } = await launchRawEdge(
      relayPath,
      udpRule('u', port, sink.address().port, 'udp_receive_buffer = "4KiB"'),
      1,
    );
    const sent = udpBurst(port, BURST, 1400);
    expect(sent).toBe(BURST);
    const rule = await pollUntil(
      async () => {
        const rule = (await metrics.rule('u')) as UdpRule;
        const { packets_in, datagrams_dropped, receive_buffer_drops } = rule.udp;
        return packets_in + datagrams_dropped + receive_buffer_drops === sent && rule;
      },
      { timeoutMs: 10_000, what: 'every datagram of the burst relayed or counted as dropped' },
    );
    expect(rule.udp.receive_buffer_drops).toBeGreaterThan(0);
    const text = await metrics.text();
    expect(text).toMatch(
      new RegExp(
        `sluice_rule_receive_buffer_drops_total\\{[^}]*rule="u"[^}]*\\} ${rule.udp.receive_buffer_drops}\\n`,
      ),
    );
  });

  it('refuses a UDP rule whose port another socket holds, naming the port', async () => {
    const echo = await startUdpEcho('t');
    const [port, other] = (await freePorts(2)) as [number, number];
    const holder = createSocket('udp4');
    await new Promise<void>((resolve) => holder.bind({ address: '127.0.0.1', port }, resolve));
    try {
      const { metrics } = await launchRawEdge(
        relayPath,
        udpRule('held', port, echo.port) + udpRule('free', other, echo.port),
      );
      const held = await metrics.rule('held');
      expect(held).toMatchObject({ state: 'failed', reason: 'port_in_use' });
      expect(held.listen).toBe(`127.0.0.1:${port}`);
      expect((await metrics.rule('free')).state).toBe('active');
    } finally {
      holder.close();
    }
  });

  it('with proxy_protocol = "v2" starts every datagram to the target with a v2 DGRAM header naming the client', async () => {
    const target = createSocket('udp4');
    const seen: string[] = [];
    target.on('message', (message, from) => {
      const header = parseProxyHeader(message);
      if (header.kind !== 'ok') {
        seen.push(`bad:${header.kind}`);
        return;
      }
      seen.push(
        `${header.transport} ${header.source?.address}:${header.source?.port} ${message.subarray(header.headerLength).toString()}`,
      );
      target.send('ok', from.port, from.address);
    });
    await new Promise<void>((resolve) => target.bind({ address: '127.0.0.1', port: 0 }, resolve));
    try {
      const [port] = (await freePorts(1)) as [number];
      await launchRawEdge(relayPath, udpRule('u', port, target.address().port, 'proxy_protocol = "v2"'));
      const client = await udpClient();
      await client.send('one', port);
      await pollUntil(() => client.replies.length === 1, { timeoutMs: 5_000, what: 'first reply' });
      await client.send('two', port);
      await pollUntil(() => client.replies.length === 2, { timeoutMs: 5_000, what: 'second reply' });
      const me = `127.0.0.1:${client.socket.address().port}`;
      expect(seen).toEqual([`udp ${me} one`, `udp ${me} two`]);
    } finally {
      target.close();
    }
  });
});
