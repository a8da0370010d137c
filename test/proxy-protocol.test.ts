// PROXY protocol end to end, with a real HAProxy on either side of the edge:
// - `proxy_protocol = "v1" | "v2"`: the edge's header goes to HAProxy (`accept-proxy`), which
//   believes it and names the same client in its own v2 header to a Node target; and straight
//   to a Node target that checks the exact bytes.
// - `accept_proxy = true`: HAProxy in front (`send-proxy`, `send-proxy-v2`, from an address of
//   its own), the edge strips its header and names the ORIGINAL client in the header it sends on.
//   Bad headers and silence are closed and counted; valid headers from any peer get through.
// - accept_proxy with SNI routes: the header first, then the ClientHello, both read before a
//   route is chosen, and a TLS handshake completing behind it.
// Clients connect from 127.0.0.2 and HAProxy from 127.0.0.3, so an address in a header says
// whose it is.

import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { encodeProxyHeader } from '@sluice/core/proxy-protocol';
import { freePorts, pollUntil, withTimeout } from '@sluice/test-kit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deferCleanup, runCleanup } from './helpers/cleanup.ts';
import { startHaproxy } from './helpers/haproxy.ts';
import { onlyRejected } from './helpers/metrics.ts';
import { type CertSet, makeCertificates, reversed, sClient, startTlsBackend } from './helpers/openssl.ts';
import { startProxyEchoTarget, startProxyTlsTarget } from './helpers/proxy-target.ts';
import { launchRawEdge } from './helpers/raw-edge.ts';
import { RELAY_PATHS } from './helpers/relay-paths.ts';
import { closed, readExactly } from './helpers/tcp-client.ts';
import { startHelloSplitter, tlsExchange } from './helpers/tls-client.ts';

afterEach(runCleanup);

const CLIENT_ADDRESS = '127.0.0.2';
const HAPROXY_ADDRESS = '127.0.0.3';

const CNS = ['sni-a', 'sni-wild', 'sni-default', 'pp-a', 'pp-wild'] as const;
let certSet: CertSet;
beforeAll(async () => {
  certSet = await makeCertificates(CNS);
}, 60_000);
afterAll(() => certSet?.remove());
const cert = (cn: (typeof CNS)[number]) => certSet.certs[cn]!;

/** Connects to 127.0.0.1:port from `localAddress`; destroyed by the test's cleanup. */
async function connectFrom(port: number, localAddress = CLIENT_ADDRESS): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress, noDelay: true });
  socket.on('error', () => {});
  deferCleanup(() => {
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`connect to ${port} timed out`)), 5_000);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
  return socket;
}

/** Sends `size` random bytes (after `prefix`) and expects exactly them echoed back. */
async function echoPayload(socket: net.Socket, size: number, prefix = Buffer.alloc(0)): Promise<void> {
  const payload = randomBytes(size);
  socket.write(Buffer.concat([prefix, payload]));
  const echoed = await readExactly(socket, size, 10_000);
  expect(echoed.equals(payload), 'the payload came back changed').toBe(true);
}

const at = (port: number): string => `"127.0.0.1:${port}"`;

const PAYLOAD = 256 * 1024;

/** A v2 TCP4 header (16 + 12 bytes) from CLIENT_ADDRESS:clientPort to 127.0.0.1:port, as parsed. */
function tcp4V2(clientPort: number | undefined, port: number) {
  return {
    kind: 'ok',
    version: 2,
    headerLength: 28,
    command: 'proxy',
    transport: 'tcp',
    source: { address: CLIENT_ADDRESS, port: clientPort },
    destination: { address: '127.0.0.1', port },
  };
}

describe.each(RELAY_PATHS)('PROXY protocol (%s path)', (relayPath) => {
  it('proxy_protocol v1 and v2: HAProxy (accept-proxy) and a Node target both read the original client from the header', async () => {
    const behindHaproxy = await startProxyEchoTarget();
    const direct = await startProxyEchoTarget();
    const [hp, v1, v2, directV1, directV2] = (await freePorts(5)) as [number, number, number, number, number];
    // HAProxy believes the edge's header and says the same in its own v2 header to the target.
    await startHaproxy(
      [
        'listen from_edge',
        `  bind 127.0.0.1:${hp} accept-proxy`,
        `  server target 127.0.0.1:${behindHaproxy.port} send-proxy-v2`,
      ].join('\n'),
      [hp],
    );
    const rule = (name: string, listen: number, target: number, version: string): string =>
      `[[rules]]\nname = "${name}"\nlisten = "127.0.0.1:${listen}"\ntargets = [${at(target)}]\nproxy_protocol = "${version}"\n`;
    const edge = await launchRawEdge(
      relayPath,
      rule('v1', v1, hp, 'v1') +
        rule('v2', v2, hp, 'v2') +
        rule('direct-v1', directV1, direct.port, 'v1') +
        rule('direct-v2', directV2, direct.port, 'v2'),
    );

    for (const [index, listen] of [v1, v2].entries()) {
      const client = await connectFrom(listen);
      await echoPayload(client, PAYLOAD);
      const seen = await behindHaproxy.header(index);
      expect(seen.parse).toMatchObject({
        kind: 'ok',
        version: 2, // HAProxy's own header
        command: 'proxy',
        transport: 'tcp',
        source: { address: CLIENT_ADDRESS, port: client.localPort },
        destination: { address: '127.0.0.1', port: listen },
      });
      client.end();
      await closed(client, 5_000);
      expect(seen.payloadBytes).toBe(PAYLOAD);
    }

    // Straight to a Node target: the exact v1 line, and a v2 header of 16 + 12 bytes.
    const c1 = await connectFrom(directV1);
    await echoPayload(c1, PAYLOAD);
    const h1 = await direct.header(0);
    expect(h1.header.toString('latin1')).toBe(
      `PROXY TCP4 ${CLIENT_ADDRESS} 127.0.0.1 ${c1.localPort} ${directV1}\r\n`,
    );
    expect(h1.peer.address).toBe('127.0.0.1');
    const c2 = await connectFrom(directV2);
    await echoPayload(c2, PAYLOAD);
    const h2 = await direct.header(1);
    expect(h2.header.length).toBe(28);
    expect(h2.parse).toEqual(tcp4V2(c2.localPort, directV2));

    c1.end();
    c2.end();
    await closed(c1, 5_000);
    await closed(c2, 5_000);
    // Counters are final once the edge has closed both sides of every connection.
    await pollUntil(async () => (await edge.metrics.json()).rules.every((r) => r.active_connections === 0), {
      timeoutMs: 5_000,
      what: 'every connection through the edge to close',
    });
    for (const name of ['v1', 'v2', 'direct-v1', 'direct-v2']) {
      const metrics = await edge.metrics.rule(name);
      expect(metrics.connections_total, name).toBe(1);
      expect(metrics.bytes_in, name).toBe(PAYLOAD);
      expect(metrics.bytes_out, name).toBe(PAYLOAD);
    }
  });

  it('accept_proxy behind HAProxy send-proxy and send-proxy-v2: the header sent on names the original client', async () => {
    const target = await startProxyEchoTarget();
    const [sendV1, sendV2, listen] = (await freePorts(3)) as [number, number, number];
    // HAProxy first (its readiness probes must not reach the edge), connecting from its own address.
    await startHaproxy(
      [
        'listen send_v1',
        `  bind 127.0.0.1:${sendV1}`,
        `  server edge 127.0.0.1:${listen} send-proxy source ${HAPROXY_ADDRESS}`,
        '',
        'listen send_v2',
        `  bind 127.0.0.1:${sendV2}`,
        `  server edge 127.0.0.1:${listen} send-proxy-v2 source ${HAPROXY_ADDRESS}`,
      ].join('\n'),
      [sendV1, sendV2],
    );
    const edge = await launchRawEdge(
      relayPath,
      `[[rules]]\nname = "behind-lb"\nlisten = "127.0.0.1:${listen}"\ntargets = [${at(target.port)}]\naccept_proxy = true\nproxy_protocol = "v2"\n`,
    );

    for (const [index, front] of [sendV1, sendV2].entries()) {
      const client = await connectFrom(front);
      // Both ways intact: HAProxy's header is gone from what the target reads, and the target's
      // bytes reach the client.
      await echoPayload(client, PAYLOAD);
      const seen = await target.header(index);
      // The client as HAProxy saw it, not HAProxy's own connection (from 127.0.0.3).
      expect(seen.parse).toEqual(tcp4V2(client.localPort, listen));
      client.end();
      await closed(client, 5_000);
      expect(seen.payloadBytes).toBe(PAYLOAD);
    }
    await pollUntil(async () => (await edge.metrics.rule('behind-lb')).active_connections === 0, {
      timeoutMs: 5_000,
      what: 'both connections through the edge to close',
    });
    const metrics = await edge.metrics.rule('behind-lb');
    expect(metrics.connections_total).toBe(2);
    // bytes_in is not checked here: payload that arrives with the header is not counted (see
    // the known-bug test below), and how much does depends on HAProxy's timing.
    expect(metrics.bytes_out).toBe(2 * PAYLOAD);
    expect((await edge.metrics.rule('behind-lb')).rejected).toEqual(onlyRejected());
    expect(target.connections.length).toBe(2);
  });

  it('accept_proxy: bad headers are closed at once, silence after 3 s, all counted; valid headers get through', async () => {
    const target = await startProxyEchoTarget();
    const [listen] = (await freePorts(1)) as [number];
    const edge = await launchRawEdge(
      relayPath,
      `[[rules]]\nname = "lb"\nlisten = "127.0.0.1:${listen}"\ntargets = [${at(target.port)}]\naccept_proxy = true\nproxy_protocol = "v2"\n`,
    );

    const started = performance.now();
    const silent = await connectFrom(listen);
    const bad = [
      'PROXY TCP4 garbage\r\n',
      'GET / HTTP/1.1\r\nHost: example.com\r\n\r\n', // no header at all
      `PROXY TCP4 198.51.100.7 127.0.0.1 40000 ${'9'.repeat(120)}\r\n`, // longer than a v1 line may be
    ];
    for (const bytes of bad) {
      const client = await connectFrom(listen);
      client.write(bytes);
      await closed(client, 2_000);
    }
    expect(performance.now() - started).toBeLessThan(2_500);
    expect((await edge.metrics.rule('lb')).rejected).toEqual(onlyRejected({ proxy_header_invalid: 3 }));

    // Valid headers while the silent one waits. v1 in the same write as the payload:
    const viaV1 = await connectFrom(listen);
    await echoPayload(viaV1, 64 * 1024, Buffer.from(`PROXY TCP4 198.51.100.7 203.0.113.1 40000 443\r\n`));
    expect((await target.header(0)).parse).toMatchObject({
      version: 2,
      source: { address: '198.51.100.7', port: 40000 },
      // The destination is where the edge was reached, whatever the peer's header said.
      destination: { address: '127.0.0.1', port: listen },
    });

    // v2 with an IPv6 client, in three writes cut inside the signature and the addresses:
    const viaV2 = await connectFrom(listen);
    const v2 = encodeProxyHeader(
      'v2',
      { address: '2001:db8::7', port: 50000 },
      { address: '2001:db8::1', port: 443 },
    );
    // The pauses make each write a read of its own on the edge; nothing tells the client that the
    // edge has read a piece, so a short wait is the only way to cut the header on the wire.
    viaV2.write(v2.subarray(0, 5));
    await new Promise((resolve) => setTimeout(resolve, 50));
    viaV2.write(v2.subarray(5, 30));
    await new Promise((resolve) => setTimeout(resolve, 50));
    viaV2.write(v2.subarray(30));
    await echoPayload(viaV2, 64 * 1024);
    expect((await target.header(1)).parse).toMatchObject({
      version: 2,
      source: { address: '2001:db8::7', port: 50000 },
      // One family for both ends: the edge's IPv4 end goes out mapped.
      destination: { address: '::ffff:127.0.0.1', port: listen },
    });

    // UNKNOWN (v1) and LOCAL (v2) carry no client: the real peer is the client then.
    const unknown = await connectFrom(listen);
    await echoPayload(unknown, 1024, Buffer.from('PROXY UNKNOWN\r\n'));
    expect((await target.header(2)).parse).toMatchObject({
      source: { address: CLIENT_ADDRESS, port: unknown.localPort },
    });
    const local = await connectFrom(listen);
    const localHeader = Buffer.concat([v2.subarray(0, 12), Buffer.from([0x20, 0x00, 0x00, 0x00])]);
    await echoPayload(local, 1024, localHeader);
    expect((await target.header(3)).parse).toMatchObject({
      source: { address: CLIENT_ADDRESS, port: local.localPort },
    });

    // The silent peer is closed when its 3 s are up, and counted too.
    await closed(silent, 8_000);
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThan(2_900);
    expect(waited).toBeLessThan(7_000);
    expect((await edge.metrics.rule('lb')).rejected).toEqual(onlyRejected({ proxy_header_invalid: 4 }));
    expect((await edge.metrics.rule('lb')).connections_total).toBe(8);
    expect(target.connections.length).toBe(4);
  });

  it('accept_proxy with SNI routes: the header, then the ClientHello, routed by name with the original client passed on', async () => {
    const [a, wild, fallback] = await Promise.all([
      startTlsBackend(cert('sni-a')),
      startTlsBackend(cert('sni-wild')),
      startTlsBackend(cert('sni-default')),
    ]);
    const ppA = await startProxyTlsTarget(cert('pp-a'));
    const ppWild = await startProxyTlsTarget(cert('pp-wild'));
    const [front, frontPp, plain, withPp] = (await freePorts(4)) as [number, number, number, number];
    await startHaproxy(
      [
        'listen tls_plain',
        `  bind 127.0.0.1:${front}`,
        `  server edge 127.0.0.1:${plain} send-proxy-v2 source ${HAPROXY_ADDRESS}`,
        '',
        'listen tls_pp',
        `  bind 127.0.0.1:${frontPp}`,
        `  server edge 127.0.0.1:${withPp} send-proxy source ${HAPROXY_ADDRESS}`,
      ].join('\n'),
      [front, frontPp],
    );
    const edge = await launchRawEdge(
      relayPath,
      [
        '[[rules]]',
        'name = "lb-tls"',
        `listen = "127.0.0.1:${plain}"`,
        'accept_proxy = true',
        `sni = { "a.example.com" = ${at(a.port)}, "*.example.org" = ${at(wild.port)} }`,
        `targets = [${at(fallback.port)}]`,
        '',
        '[[rules]]',
        'name = "lb-tls-pp"',
        `listen = "127.0.0.1:${withPp}"`,
        'accept_proxy = true',
        'proxy_protocol = "v2"',
        `sni = { "a.example.com" = ${at(ppA.port)}, "*.example.org" = ${at(ppWild.port)} }`,
        '',
      ].join('\n'),
    );

    // Through HAProxy (send-proxy-v2) to openssl s_server backends.
    const viaNode = await tlsExchange(front, 'node via haproxy', {
      servername: 'a.example.com',
      localAddress: CLIENT_ADDRESS,
    });
    expect(viaNode).toMatchObject({ peerCn: 'sni-a', reply: reversed('node via haproxy') });
    const viaOpenssl = await sClient(front, 'www.example.org', 'openssl via haproxy');
    expect(viaOpenssl.peerCn, viaOpenssl.output).toBe('sni-wild');
    expect(viaOpenssl.reply).toBe(reversed('openssl via haproxy'));
    const noSni = await tlsExchange(front, 'no sni via haproxy', { localAddress: CLIENT_ADDRESS });
    expect(noSni.peerCn).toBe('sni-default');
    await a.waitForHandshakes(1);
    await wild.waitForHandshakes(1);
    await fallback.waitForHandshakes(1);

    // Through HAProxy (send-proxy, v1) to TLS targets that read the edge's v2 header first.
    const client = await tlsExchange(frontPp, 'pp via haproxy', {
      servername: 'x.example.org',
      localAddress: CLIENT_ADDRESS,
    });
    expect(client).toMatchObject({ peerCn: 'pp-wild', reply: reversed('pp via haproxy') });
    const seen = await ppWild.header(0);
    expect(seen.parse).toMatchObject({
      version: 2,
      source: { address: CLIENT_ADDRESS, port: client.local.port },
      destination: { address: '127.0.0.1', port: withPp },
    });

    // A header and the ClientHello one byte per write (the header is read, then the hello).
    const header = Buffer.from(`PROXY TCP4 192.0.2.10 192.0.2.1 41000 443\r\n`);
    const bytewise = await startHelloSplitter(withPp, { prefix: header, pieceBytes: 1 });
    const split = await tlsExchange(bytewise.port, 'split', { servername: 'a.example.com' });
    expect(split).toMatchObject({ peerCn: 'pp-a', reply: reversed('split') });
    expect(bytewise.sent[0]!.writes).toBe(header.length + bytewise.sent[0]!.helloBytes);
    expect((await ppA.header(0)).parse).toMatchObject({ source: { address: '192.0.2.10', port: 41000 } });

    // A v2 header and the whole ClientHello in one write (the hello is already buffered when
    // the header has been read).
    const v2 = encodeProxyHeader(
      'v2',
      { address: '192.0.2.11', port: 41001 },
      { address: '192.0.2.1', port: 443 },
    );
    const together = await startHelloSplitter(withPp, { prefix: v2, pieceBytes: 1 << 20, pauseMs: 0 });
    const one = await tlsExchange(together.port, 'together', { servername: 'a.example.com' });
    expect(one).toMatchObject({ peerCn: 'pp-a', reply: reversed('together') });
    expect(together.sent[0]!.writes).toBe(1);
    expect((await ppA.header(1)).parse).toMatchObject({ source: { address: '192.0.2.11', port: 41001 } });
    expect(ppA.connections.map((c) => c.servername)).toEqual(['a.example.com', 'a.example.com']);

    for (const name of ['lb-tls', 'lb-tls-pp'])
      expect((await edge.metrics.rule(name)).rejected, name).toEqual(onlyRejected());
    expect((await edge.metrics.rule('lb-tls')).connections_total).toBe(3);
    expect((await edge.metrics.rule('lb-tls-pp')).connections_total).toBe(3);
  });

  // A FIN that comes in before the relay is wired (right behind the header and payload) was
  // once lost on the JS path: Node had emitted 'end' on the paused socket with no one listening.
  it('peers that send their header, payload and FIN at once get the whole echo and then the FIN', async () => {
    const target = await startProxyEchoTarget();
    const [listen] = (await freePorts(1)) as [number];
    await launchRawEdge(
      relayPath,
      `[[rules]]\nname = "lb"\nlisten = "127.0.0.1:${listen}"\ntargets = [${at(target.port)}]\naccept_proxy = true\nproxy_protocol = "v2"\n`,
    );
    // Five at once: each must get its whole echo and then the FIN. (On the JS path a FIN
    // now and then comes in late enough to be seen; five at once all doing so is ~1e-5.)
    const peers = await Promise.all(
      Array.from({ length: 5 }, async (_, i) => {
        const client = await connectFrom(listen);
        const payload = randomBytes(1000);
        const received: Buffer[] = [];
        client.on('data', (chunk: Buffer) => received.push(chunk));
        const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
        const header = `PROXY TCP4 198.51.100.7 203.0.113.1 ${40000 + i} 443\r\n`;
        client.end(Buffer.concat([Buffer.from(header), payload]));
        return { payload, received, ended };
      }),
    );
    await withTimeout(Promise.all(peers.map((p) => p.ended)), 3_000, 'the FIN back to all five peers');
    for (const { payload, received } of peers) expect(Buffer.concat(received).equals(payload)).toBe(true);
    const sources = await Promise.all(peers.map((_, i) => target.header(i)));
    expect(sources.map((c) => (c.parse?.kind === 'ok' ? c.parse.source?.port : null)).sort()).toEqual([
      40000, 40001, 40002, 40003, 40004,
    ]);
  });

  // Bytes read from the client before a target was chosen (the payload in the same segment as
  // the PROXY header) are replayed to the target and count in bytes_in like any other.
  it('payload sent with the PROXY header counts in bytes_in', async () => {
    const target = await startProxyEchoTarget();
    const [listen] = (await freePorts(1)) as [number];
    const edge = await launchRawEdge(
      relayPath,
      `[[rules]]\nname = "lb"\nlisten = "127.0.0.1:${listen}"\ntargets = [${at(target.port)}]\naccept_proxy = true\nproxy_protocol = "v1"\n`,
    );
    const client = await connectFrom(listen);
    await echoPayload(client, 1000, Buffer.from('PROXY TCP4 198.51.100.7 203.0.113.1 40000 443\r\n'));
    client.end();
    await closed(client, 5_000);
    await pollUntil(async () => (await edge.metrics.rule('lb')).active_connections === 0, {
      timeoutMs: 5_000,
      what: 'the connection through the edge to close',
    });
    const metrics = await edge.metrics.rule('lb');
    expect(metrics.bytes_out).toBe(1000);
    expect(metrics.bytes_in).toBe(1000); // 0 today
  });
});
