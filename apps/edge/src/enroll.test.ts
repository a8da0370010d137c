// `enroll` against a fake server of our own: a real TLS listener with a self-signed certificate.

import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatEnrollUri, PROTOCOL_VERSION } from '@sluice/protocol';
import {
  FakeControlServer,
  freePort,
  freePorts,
  makeCertificate,
  type TestCertificate,
} from '@sluice/test-kit';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readBundleFile } from './bundle-file.ts';
import { enroll } from './enroll.ts';
import { EDGE_ERRORS, type EdgeError } from './errors.ts';

let certificate: TestCertificate;
let server: FakeControlServer;
let dir: string;

beforeAll(() => {
  certificate = makeCertificate();
});
beforeEach(async () => {
  server = await FakeControlServer.start({ certificate });
  dir = mkdtempSync(join(tmpdir(), 'sluice-enroll-'));
});
afterEach(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

function uri(pin = server.pin, code = 'CODE-1234-abcd'): string {
  return formatEnrollUri({ servers: [{ host: '127.0.0.1', port: server.port }], pin, code });
}

async function failure(promise: Promise<unknown>): Promise<EdgeError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!EDGE_ERRORS.is(err)) throw new Error(`expected an edge error, got ${String(err)}`);
  return err;
}

describe('enroll', () => {
  it('sends enroll after checking the pin and writes the bundle at mode 0600', async () => {
    const file = join(dir, 'edge.bundle');
    const result = await enroll(uri(), { bundleFile: file });
    expect(result.file).toBe(file);
    const [session] = server.sessions;
    expect(session!.messages).toEqual([
      { type: 'enroll', version: PROTOCOL_VERSION, code: 'CODE-1234-abcd', hostname: expect.any(String) },
    ]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(await readBundleFile(file)).toEqual({
      version: 2,
      servers: [{ host: '127.0.0.1', port: server.port }],
      pin: server.pin,
      edgeId: 'edge-1',
      name: 'edge-01',
      secret: 's3cret-s3cret',
    });
    expect(readdirSync(dir)).toEqual(['edge.bundle']);
  });

  it('with several addresses, passes over a dead one and keeps them all in the bundle', async () => {
    const dead = await freePort();
    const servers = [
      { host: '127.0.0.1', port: dead },
      { host: '127.0.0.1', port: server.port },
    ];
    const file = join(dir, 'edge.bundle');
    const result = await enroll(formatEnrollUri({ servers, pin: server.pin, code: 'CODE-1234-abcd' }), {
      bundleFile: file,
    });
    expect(result.bundle.servers).toEqual(servers);
    expect((await readBundleFile(file)).servers).toEqual(servers);
    expect(server.sessions.map((s) => s.messages.map((m) => m.type))).toEqual([['enroll']]);
  });

  it('sends the code to one replica only: a refusal there is the answer, the next is not asked', async () => {
    const other = await FakeControlServer.start({ certificate });
    try {
      server.onEnroll = () => ({ type: 'refused', code: 'code_used', message: 'used' });
      const servers = [
        { host: '127.0.0.1', port: server.port },
        { host: '127.0.0.1', port: other.port },
      ];
      const uri = formatEnrollUri({ servers, pin: server.pin, code: 'CODE-1234-abcd' });
      expect((await failure(enroll(uri, { bundleFile: join(dir, 'edge.bundle') }))).code).toBe('code_used');
      expect(other.rawConnections).toBe(0);
    } finally {
      await other.close();
    }
  });

  it('when no address takes a connection, names the last one tried', async () => {
    const [a = 0, b = 0] = await freePorts(2);
    const uri = formatEnrollUri({
      servers: [
        { host: '127.0.0.1', port: a },
        { host: '127.0.0.1', port: b },
      ],
      pin: server.pin,
      code: 'CODE-1234-abcd',
    });
    const err = await failure(enroll(uri, { bundleFile: join(dir, 'edge.bundle') }));
    expect(err.code).toBe('server_unreachable');
    expect(err.message).toContain(`127.0.0.1:${b}`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('sends nothing at all to a server whose certificate does not match the pin', async () => {
    await server.close();
    server = await FakeControlServer.start({ certificate, maxVersion: 'TLSv1.2' });
    const wrongPin = makeCertificate().pin;
    const file = join(dir, 'edge.bundle');
    const err = await failure(enroll(uri(wrongPin), { bundleFile: file }));
    expect(err.code).toBe('pin_mismatch');
    // Both fingerprints are named.
    expect(err.message).toContain(server.pin);
    expect(err.message).toContain(wrongPin);
    // With TLS 1.2 the server's side of the handshake is done before the edge checks the pin, so
    // the session below would have seen any byte the edge sent; the edge hung up instead.
    const session = await server.nextSession(0);
    await session.ended;
    expect(session.bytesReceived).toBe(0);
    expect(session.messages).toEqual([]);
    expect(existsSync(file)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('with TLS 1.3 too, a wrong pin ends the connection with no session data', async () => {
    const wrongPin = makeCertificate().pin;
    const err = await failure(enroll(uri(wrongPin), { bundleFile: join(dir, 'edge.bundle') }));
    expect(err.code).toBe('pin_mismatch');
    expect(server.rawConnections).toBe(1);
    for (const session of server.sessions) {
      await session.ended;
      expect(session.bytesReceived).toBe(0);
    }
  });

  it('reports a refusal with the server code and writes nothing', async () => {
    server.onEnroll = () => ({
      type: 'refused',
      code: 'code_used',
      message: 'the code was redeemed at 10:02',
    });
    const file = join(dir, 'edge.bundle');
    const err = await failure(enroll(uri(), { bundleFile: file }));
    expect(err.code).toBe('code_used');
    expect(err.message).toContain('the code was redeemed at 10:02');
    expect(err.exitCode).toBe(4);
    expect(readdirSync(dir)).toEqual([]);

    server.onEnroll = () => ({ type: 'refused', code: 'something_new', message: 'why' });
    const other = await failure(enroll(uri(), { bundleFile: file }));
    expect(other.code).toBe('enroll_refused');
    expect(other.message).toContain('something_new');
  });

  it('checks the bundle path before spending the code', async () => {
    const file = join(dir, 'edge.bundle');
    writeFileSync(file, 'older bundle', { mode: 0o600 });
    expect((await failure(enroll(uri(), { bundleFile: file }))).code).toBe('bundle_exists');
    expect((await failure(enroll(uri(), { bundleFile: join(dir, 'no', 'such', 'dir') }))).code).toBe(
      'bundle_unwritable',
    );
    expect(server.sessions).toEqual([]);
    await enroll(uri(), { bundleFile: file, force: true });
    expect((await readBundleFile(file)).edgeId).toBe('edge-1');
  });

  it('names a bad URI, an unreachable server, a silent one and one that answers nonsense', async () => {
    expect(
      (
        await failure(
          enroll('sluice://127.0.0.1:1/enroll?pin=12&code=abcdefgh', { bundleFile: join(dir, 'b') }),
        )
      ).code,
    ).toBe('enroll_uri_invalid');
    const port = server.port;
    await server.close();
    const unreachable = await failure(
      enroll(
        formatEnrollUri({ servers: [{ host: '127.0.0.1', port }], pin: certificate.pin, code: 'abcdefgh' }),
        {
          bundleFile: join(dir, 'b'),
        },
      ),
    );
    expect(unreachable.code).toBe('server_unreachable');
    expect(unreachable.message).toContain('ECONNREFUSED');

    server = await FakeControlServer.start({ certificate });
    server.onEnroll = () => ({ type: 'ping' });
    expect((await failure(enroll(uri(), { bundleFile: join(dir, 'b'), timeoutMs: 500 }))).code).toBe(
      'timeout',
    );
    server.onEnroll = () => ({ type: 'welcome', edgeId: 'e', name: 'n', statsIntervalMs: 1000 });
    const nonsense = await failure(enroll(uri(), { bundleFile: join(dir, 'b') }));
    expect(nonsense.code).toBe('protocol_error');
    expect(nonsense.message).toContain('welcome');
    expect(readdirSync(dir)).toEqual([]);
  });
});
