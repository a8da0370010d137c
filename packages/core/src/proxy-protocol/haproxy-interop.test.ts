// The codec against a real HAProxy on loopback, both ways:
// - HAProxy as the sender (`send-proxy`, `send-proxy-v2` with TLVs): the decoder must read what
//   it writes, with the client's address and port as source.
// - HAProxy as the receiver (`accept-proxy`): the encoder's v1 and v2 headers must be accepted,
//   and the addresses in them must come out of HAProxy's own `send-proxy-v2` on the far side.
// HAProxy is a required test dependency (scripts/system-deps.sh test installs it); when it is
// missing these tests fail, they are not skipped.

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { freePort, haproxyConfig, pollUntil, removeDir, requireProgram, tempDir } from '@sluice/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProxyEndpoint } from './address.ts';
import { type ProxyParse, parseProxyHeader } from './decode.ts';
import { encodeProxyHeader } from './encode.ts';

/** What the target behind HAProxy saw: its parse of the header, the header bytes and the payload line. */
interface TargetReport {
  parse: ProxyParse;
  headerHex: string;
  payload: string;
}

/**
 * The target: reads a PROXY header and a payload line, answers with a TargetReport as JSON and
 * closes. Connections that never send a line (HAProxy's readiness probes below) get no answer.
 */
function startTarget(): Server {
  return createServer((socket) => {
    let buf = Buffer.alloc(0);
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const parse = parseProxyHeader(buf);
      if (parse.kind === 'incomplete') return;
      const headerLength = parse.kind === 'ok' ? parse.headerLength : 0;
      const payload = buf.subarray(headerLength);
      if (parse.kind === 'ok' && !payload.includes(0x0a)) return;
      const report: TargetReport = {
        parse,
        headerHex: buf.subarray(0, headerLength).toString('hex'),
        payload: payload.toString('latin1'),
      };
      socket.end(`${JSON.stringify(report)}\n`);
      socket.removeAllListeners('data');
    });
  }).listen(0, '127.0.0.1');
}

/** Connects to `port`, sends `bytes`, returns the whole answer and our own end of the socket. */
async function exchange(
  port: number,
  bytes: Buffer,
): Promise<{ report: TargetReport; local: ProxyEndpoint }> {
  const socket = connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  const local = { address: socket.localAddress!, port: socket.localPort! };
  socket.write(bytes);
  const chunks: Buffer[] = [];
  for await (const chunk of socket) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') throw new Error(`no answer through port ${port}: ${haproxyOutput()}`);
  return { report: JSON.parse(text) as TargetReport, local };
}

let target: Server;
let haproxy: ChildProcess | null = null;
let haproxyLog = '';
let configDir = '';
const port = { sendV1: 0, sendV2: 0, accept: 0 };

function haproxyOutput(): string {
  return `haproxy output:\n${haproxyLog || '(none)'}`;
}

/** Whether something accepts a TCP connection on 127.0.0.1:`port` now. */
function accepts(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const probe = connect({ host: '127.0.0.1', port });
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

/** Waits until HAProxy accepts on `listenPort`, failing early if it exited. */
async function waitForListening(listenPort: number): Promise<void> {
  let outcome: string;
  try {
    // An exited HAProxy ends the wait at once: the probe answers why instead of false.
    outcome = await pollUntil(
      async () =>
        haproxy?.exitCode !== null
          ? `haproxy exited (${haproxy?.exitCode})`
          : (await accepts(listenPort)) && 'listening',
      { timeoutMs: 15_000, what: `haproxy to listen on ${listenPort}` },
    );
  } catch (err) {
    outcome = (err as Error).message;
  }
  if (outcome !== 'listening') throw new Error(`${outcome}. ${haproxyOutput()}`);
}

beforeAll(async () => {
  const binary = requireProgram('haproxy');
  target = startTarget();
  await once(target, 'listening');
  const targetPort = (target.address() as AddressInfo).port;
  port.sendV1 = await freePort();
  port.sendV2 = await freePort();
  port.accept = await freePort();
  configDir = tempDir('sluice-haproxy-pp-');
  const config = join(configDir, 'haproxy.cfg');
  writeFileSync(
    config,
    haproxyConfig(
      [
        // HAProxy as a sender, v1.
        'listen send_v1',
        `  bind 127.0.0.1:${port.sendV1}`,
        `  server target 127.0.0.1:${targetPort} send-proxy`,
        '',
        // HAProxy as a sender, v2 with TLVs after the addresses (a unique id and a CRC32C).
        'listen send_v2',
        `  bind 127.0.0.1:${port.sendV2}`,
        '  unique-id-format %{+X}o\\ %ci:%cp_%fi:%fp_%Ts_%rt:%pid',
        `  server target 127.0.0.1:${targetPort} send-proxy-v2 proxy-v2-options crc32c,unique-id`,
        '',
        // HAProxy as a receiver of our headers (v1 or v2, it tells them apart), passing the
        // addresses on in its own v2 header.
        'listen accept',
        `  bind 127.0.0.1:${port.accept} accept-proxy`,
        `  server target 127.0.0.1:${targetPort} send-proxy-v2`,
      ].join('\n'),
    ),
  );
  const child = spawn(binary, ['-db', '-f', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  haproxy = child;
  child.stdout.on('data', (chunk: Buffer) => {
    haproxyLog += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    haproxyLog += chunk.toString();
  });
  await Promise.race([
    once(child, 'spawn'),
    once(child, 'error').then(([err]) => {
      throw new Error(`could not start ${binary}: ${String(err)}`);
    }),
  ]);
  for (const listenPort of Object.values(port)) await waitForListening(listenPort);
}, 30_000);

afterAll(async () => {
  const child = haproxy;
  if (child !== null && child.exitCode === null && child.signalCode === null) {
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
  if (target !== undefined) await new Promise((resolve) => target.close(resolve));
  if (configDir !== '') removeDir(configDir);
}, 15_000);

describe('HAProxy sends, parseProxyHeader reads', () => {
  it('send-proxy (v1): the client address as source, the frontend as destination', async () => {
    const { report, local } = await exchange(port.sendV1, Buffer.from('hello\n'));
    const header = Buffer.from(report.headerHex, 'hex').toString('latin1');
    expect(header).toMatch(/^PROXY TCP4 /);
    expect(report.parse).toEqual({
      kind: 'ok',
      version: 1,
      headerLength: header.length,
      command: 'proxy',
      transport: 'tcp',
      source: local,
      destination: { address: '127.0.0.1', port: port.sendV1 },
    });
    expect(report.payload).toBe('hello\n');
  });

  it('send-proxy-v2 with TLVs: addresses read, TLVs skipped, payload intact', async () => {
    const { report, local } = await exchange(port.sendV2, Buffer.from('hello v2\n'));
    expect(report.parse).toMatchObject({
      kind: 'ok',
      version: 2,
      command: 'proxy',
      transport: 'tcp',
      source: local,
      destination: { address: '127.0.0.1', port: port.sendV2 },
    });
    // 16 fixed + 12 address bytes, then the unique-id and CRC32C TLVs.
    expect(report.parse.kind === 'ok' && report.parse.headerLength).toBeGreaterThan(28);
    expect(report.payload).toBe('hello v2\n');
  });
});

describe('encodeProxyHeader writes, HAProxy accepts and passes the addresses on', () => {
  const cases: {
    name: string;
    version: 'v1' | 'v2';
    source: ProxyEndpoint;
    destination: ProxyEndpoint;
    want?: ProxyEndpoint[];
  }[] = [
    {
      name: 'v1 TCP4',
      version: 'v1',
      source: { address: '203.0.113.7', port: 40000 },
      destination: { address: '198.51.100.1', port: 443 },
    },
    {
      name: 'v2 TCP4',
      version: 'v2',
      source: { address: '203.0.113.8', port: 40001 },
      destination: { address: '198.51.100.1', port: 8443 },
    },
    {
      name: 'v1 TCP6',
      version: 'v1',
      source: { address: '2001:db8::7', port: 40002 },
      destination: { address: '2001:db8::1', port: 443 },
    },
    {
      name: 'v2 TCP6',
      version: 'v2',
      source: { address: '2001:db8::8', port: 0 },
      destination: { address: '2001:db8::1', port: 65535 },
    },
    {
      name: 'v1 mixed families (the IPv4 end mapped)',
      version: 'v1',
      source: { address: '2001:db8::9', port: 40003 },
      destination: { address: '198.51.100.1', port: 443 },
      want: [
        { address: '2001:db8::9', port: 40003 },
        { address: '::ffff:198.51.100.1', port: 443 },
      ],
    },
    {
      name: 'v2 both ends mapped (sent as IPv4)',
      version: 'v2',
      source: { address: '::ffff:203.0.113.9', port: 40004 },
      destination: { address: '::ffff:198.51.100.1', port: 443 },
      want: [
        { address: '203.0.113.9', port: 40004 },
        { address: '198.51.100.1', port: 443 },
      ],
    },
  ];
  for (const { name, version, source, destination, want } of cases) {
    it(name, async () => {
      const header = encodeProxyHeader(version, source, destination);
      const { report } = await exchange(port.accept, Buffer.concat([header, Buffer.from('payload\n')]));
      expect(report.parse, haproxyOutput()).toMatchObject({
        kind: 'ok',
        version: 2,
        command: 'proxy',
        source: want?.[0] ?? source,
        destination: want?.[1] ?? destination,
      });
      expect(report.payload).toBe('payload\n');
    });
  }
});
