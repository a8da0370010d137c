// SNI routing end to end, with real TLS on both sides: `openssl s_server` backends (each with a
// certificate of its own CN, answering lines reversed) behind an edge rule with `sni` routes,
// reached by `openssl s_client` and Node's tls.connect. A completed handshake through the edge
// proves the peeked ClientHello was replayed byte for byte (the handshake transcript covers
// it); the CN proves which backend answered. Then what must not get through: no route and no
// default, bytes that are not TLS, a client that says nothing, all closed and counted.

import net from 'node:net';
import tls from 'node:tls';
import { freePorts, pollUntil } from '@sluice/test-kit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCleanup } from './helpers/cleanup.ts';
import { findSamples, onlyRejected } from './helpers/metrics.ts';
import {
  type CertSet,
  makeCertificates,
  reversed,
  sClient,
  startTlsBackend,
  type TlsBackend,
} from './helpers/openssl.ts';
import { launchRawEdge } from './helpers/raw-edge.ts';
import { RELAY_PATHS } from './helpers/relay-paths.ts';
import { startEchoTarget, startTarget } from './helpers/target-server.ts';
import { closed, connectTcp, readExactly } from './helpers/tcp-client.ts';
import { startHelloSplitter, tlsExchange, tlsRefused } from './helpers/tls-client.ts';

afterEach(runCleanup);

const CNS = ['sni-a', 'sni-x', 'sni-wild', 'sni-default'] as const;
type Cn = (typeof CNS)[number];

let certSet: CertSet;
beforeAll(async () => {
  certSet = await makeCertificates(CNS);
}, 60_000);
afterAll(() => certSet?.remove());

/** One s_server per certificate, killed by the test's cleanup. */
async function backends(): Promise<Record<Cn, TlsBackend>> {
  const started = await Promise.all(CNS.map((cn) => startTlsBackend(certSet.certs[cn]!)));
  return Object.fromEntries(started.map((backend) => [backend.cn, backend])) as Record<Cn, TlsBackend>;
}

const at = (port: number): string => `"127.0.0.1:${port}"`;

/** The rule most tests use: exact names, a wildcard, an exact name under the wildcard, and a default. */
function routedRule(name: string, listen: number, b: Record<Cn, TlsBackend>, withDefault: boolean): string {
  return [
    '[[rules]]',
    `name = "${name}"`,
    `listen = "127.0.0.1:${listen}"`,
    `sni = { "a.example.com" = ${at(b['sni-a'].port)}, "x.example.org" = ${at(b['sni-x'].port)}, "*.example.org" = ${at(b['sni-wild'].port)} }`,
    ...(withDefault ? [`targets = [${at(b['sni-default'].port)}]`] : []),
    '',
  ].join('\n');
}

describe.each(RELAY_PATHS)('SNI routing (%s path)', (relayPath) => {
  it('routes by exact name, then one-label wildcard, then the default, with handshakes completing end to end', async () => {
    const b = await backends();
    const [listen] = (await freePorts(1)) as [number];
    const edge = await launchRawEdge(relayPath, routedRule('tls', listen, b, true));

    // [client, SNI sent, backend that must answer]
    const cases: [string, string | null, Cn][] = [
      ['s_client', 'a.example.com', 'sni-a'],
      ['node', 'a.example.com', 'sni-a'],
      ['s_client', 'A.Example.COM', 'sni-a'], // names are case-insensitive
      ['node', 'x.example.org', 'sni-x'], // an exact name beats the wildcard that also covers it
      ['s_client', 'x.example.org', 'sni-x'],
      ['node', 'foo.example.org', 'sni-wild'],
      ['s_client', 'bar-1.example.org', 'sni-wild'],
      ['node', 'a.b.example.org', 'sni-default'], // the wildcard covers one label only
      ['s_client', 'example.org', 'sni-default'], // ... and not the bare domain
      ['node', 'b.example.com', 'sni-default'],
      ['s_client', null, 'sni-default'], // no SNI at all
      ['node', null, 'sni-default'],
    ];
    const expectedHandshakes: Record<Cn, number> = {
      'sni-a': 0,
      'sni-x': 0,
      'sni-wild': 0,
      'sni-default': 0,
    };
    for (const [client, servername, cn] of cases) {
      const line = `${client} asks for ${servername}`;
      if (client === 's_client') {
        const result = await sClient(listen, servername, line);
        expect(result.peerCn, `${line}\n${result.output}`).toBe(cn);
        expect(result.reply, result.output).toBe(reversed(line));
        expect(result.code, result.output).toBe(0);
      } else {
        const result = await tlsExchange(listen, line, servername === null ? {} : { servername });
        expect(result.peerCn, line).toBe(cn);
        expect(result.reply).toBe(reversed(line));
      }
      expectedHandshakes[cn]++;
      // Exactly one backend saw the handshake, and the others saw nothing.
      for (const backend of Object.values(b))
        await backend.waitForHandshakes(expectedHandshakes[backend.cn as Cn]);
    }

    // A TLS 1.2 ClientHello (different layout, no key shares) is routed the same way.
    const tls12 = await tlsExchange(listen, 'tls 1.2', {
      servername: 'foo.example.org',
      maxVersion: 'TLSv1.2',
    });
    expect(tls12).toMatchObject({ peerCn: 'sni-wild', reply: reversed('tls 1.2'), protocol: 'TLSv1.2' });

    const rule = await edge.metrics.rule('tls');
    expect(rule.connections_total).toBe(cases.length + 1);
    expect((await edge.metrics.rule('tls')).rejected).toEqual(onlyRejected({}));
    expect(rule.connect_errors).toEqual({ refused: 0, timeout: 0, unreachable: 0, reset: 0, other: 0 });
  });

  it('with no route and no default target closes the client before any handshake and counts sni_miss', async () => {
    const b = await backends();
    const [listen] = (await freePorts(1)) as [number];
    const edge = await launchRawEdge(relayPath, routedRule('strict', listen, b, false));

    await tlsRefused(listen, { servername: 'other.example.net' });
    await tlsRefused(listen, { servername: 'a.b.example.org' });
    await tlsRefused(listen, {}); // no SNI: nothing to route by, and no default
    const viaOpenssl = await sClient(listen, 'example.org', 'never sent');
    expect(viaOpenssl.peerCn, viaOpenssl.output).toBeNull();
    expect(viaOpenssl.code, viaOpenssl.output).not.toBe(0);

    expect((await edge.metrics.rule('strict')).rejected).toEqual(onlyRejected({ sni_miss: 4 }));
    const samples = findSamples(await edge.metrics.samples(), 'sluice_rule_rejected_total', {
      rule: 'strict',
    });
    expect(samples.find((s) => s.labels.reason === 'sni_miss')?.value).toBe(4);
    expect(samples.filter((s) => s.labels.reason !== 'sni_miss').every((s) => s.value === 0)).toBe(true);
    for (const backend of Object.values(b)) expect(backend.handshakes(), backend.cn).toBe(0);

    // The rule itself works: a routed name still gets through.
    const routed = await tlsExchange(listen, 'still here', { servername: 'a.example.com' });
    expect(routed.peerCn).toBe('sni-a');
    expect((await edge.metrics.rule('strict')).rejected).toEqual(onlyRejected({ sni_miss: 4 }));
  });

  it('closes clients that send no ClientHello: other bytes at once, silence and half a ClientHello after 3 s; none reaches a target', async () => {
    const a = await startTlsBackend(certSet.certs['sni-a']!);
    // The default target is a plain TCP server that records every connection it gets.
    const recorder = await startTarget(() => {});
    const [listen] = (await freePorts(1)) as [number];
    const edge = await launchRawEdge(
      relayPath,
      `[[rules]]\nname = "guarded"\nlisten = "127.0.0.1:${listen}"\nsni = { "a.example.com" = ${at(a.port)} }\ntargets = [${at(recorder.port)}]\n`,
    );

    // Half of a real ClientHello, captured from Node's TLS client.
    const hello = await captureClientHello('a.example.com');
    expect(hello.length).toBeGreaterThan(100);

    const started = performance.now();
    const silent = await connectTcp(listen);
    const partial = await connectTcp(listen);
    partial.write(hello.subarray(0, Math.floor(hello.length / 2)));
    const http = await connectTcp(listen);
    http.write('GET / HTTP/1.1\r\nHost: a.example.com\r\n\r\n');

    // Not TLS: refused on the first byte, long before the 3 s a ClientHello may take.
    await closed(http, 2_000);
    expect(performance.now() - started).toBeLessThan(2_000);
    // Nothing, or not enough: closed once the 3 s are up, not before.
    await closed(silent, 8_000);
    await closed(partial, 8_000);
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThan(2_900);
    expect(waited).toBeLessThan(7_000);

    expect((await edge.metrics.rule('guarded')).rejected).toEqual(onlyRejected({ sni_parse_error: 3 }));
    expect(recorder.accepted.length).toBe(0);
    expect(a.handshakes()).toBe(0);
    const samples = findSamples(await edge.metrics.samples(), 'sluice_rule_rejected_total', {
      rule: 'guarded',
      reason: 'sni_parse_error',
    });
    expect(samples.map((s) => s.value)).toEqual([3]);
  });

  it('routes a ClientHello that arrives one byte per TCP write, in one record or re-framed into many', async () => {
    const b = await backends();
    const [listen] = (await freePorts(1)) as [number];
    const edge = await launchRawEdge(relayPath, routedRule('tls', listen, b, true));

    // Node's ClientHello, one byte per write: the record header, the handshake header and the
    // server name all arrive in pieces.
    const bytewise = await startHelloSplitter(listen, { pieceBytes: 1 });
    const one = await tlsExchange(bytewise.port, 'byte by byte', { servername: 'x.example.org' });
    expect(one).toMatchObject({ peerCn: 'sni-x', reply: reversed('byte by byte') });
    expect(bytewise.sent[0]!.writes).toBe(bytewise.sent[0]!.helloBytes);

    // openssl's ClientHello cut into TLS records of 40 handshake bytes each (a TLS server must
    // join them), still written 3 bytes at a time.
    const records = await startHelloSplitter(listen, { pieceBytes: 3, recordBytes: 40 });
    const two = await sClient(records.port, 'foo.example.org', 'many records');
    expect(two.peerCn, two.output).toBe('sni-wild');
    expect(two.reply).toBe(reversed('many records'));
    expect(records.sent[0]!.records).toBeGreaterThan(5);

    // A ClientHello larger than one TLS record (20 KiB of ALPN names): Node splits it into two
    // records itself.
    const alpn = Array.from({ length: 100 }, (_, i) => `proto-${i}-${'p'.repeat(190)}`);
    const big = await tlsExchange(listen, 'big hello', { servername: 'a.example.com', ALPNProtocols: alpn });
    expect(big).toMatchObject({ peerCn: 'sni-a', reply: reversed('big hello') });

    expect((await edge.metrics.rule('tls')).rejected).toEqual(onlyRejected({}));
    await b['sni-x'].waitForHandshakes(1);
    await b['sni-wild'].waitForHandshakes(1);
    await b['sni-a'].waitForHandshakes(1);
    expect(b['sni-default'].handshakes()).toBe(0);
  });
  // The peeked ClientHello is replayed to the target and counts in bytes_in like any other byte.
  it('the replayed ClientHello counts in bytes_in', async () => {
    const echo = await startEchoTarget();
    const [listen] = (await freePorts(1)) as [number];
    const edge = await launchRawEdge(
      relayPath,
      `[[rules]]\nname = "tls"\nlisten = "127.0.0.1:${listen}"\nsni = { "a.example.com" = ${at(echo.port)} }\n`,
    );
    const hello = await captureClientHello('a.example.com');
    const client = await connectTcp(listen);
    client.write(hello);
    // The echo proves the hello reached the target whole.
    expect((await readExactly(client, hello.length)).equals(hello)).toBe(true);
    client.end();
    await closed(client, 5_000);
    await pollUntil(async () => (await edge.metrics.rule('tls')).active_connections === 0, {
      timeoutMs: 5_000,
      what: 'the connection through the edge to close',
    });
    const metrics = await edge.metrics.rule('tls');
    expect(metrics.bytes_out).toBe(hello.length);
    expect(metrics.bytes_in).toBe(hello.length); // 0 today
  });
});

/** The first flight Node's TLS client sends for `servername`, read by a plain TCP server. */
async function captureClientHello(servername: string): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const server = net.createServer((socket) => {
      let data = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        data = Buffer.concat([data, chunk]);
        if (data.length >= 5 && data.length >= 5 + data.readUInt16BE(3)) {
          socket.destroy();
          server.close();
          resolve(data.subarray(0, 5 + data.readUInt16BE(3)));
        }
      });
    });
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const { port } = server.address() as net.AddressInfo;
      const client = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false });
      client.on('error', () => {});
      client.on('close', () => client.destroy());
    });
    server.on('error', reject);
  });
}
