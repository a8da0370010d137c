// The control listener of a real sluice-server process against strangers: connections that
// never authenticate are cut at hello_timeout_ms and capped per address; frames before
// authentication are capped at 8 KiB; guessed secrets and codes lock the address out; a
// locked SQLite file is waited for without stalling the API.

import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { PRE_AUTH_MAX_FRAME_BYTES } from '@sluice/protocol';
import { enrollEdge, FakeEdge } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { runCleanup } from './helpers/cleanup.ts';
import { type ControlPlane, startControlPlane } from './helpers/control-plane.ts';
import { findSamples, MetricsClient } from './helpers/metrics.ts';

afterEach(runCleanup);

function rawConnect(port: number, localAddress = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress }, () => resolve(socket));
    socket.once('error', reject);
  });
}

function closed(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) resolve();
    else socket.once('close', () => resolve());
  });
}

async function serverMetric(plane: ControlPlane, name: string, reason: string): Promise<number> {
  const samples = await new MetricsClient(plane.server.ports.metrics).samples();
  return findSamples(samples, name, { reason })[0]?.value ?? 0;
}

async function pinOf(plane: ControlPlane): Promise<string> {
  const enrollment = await plane.api.enroll('pin-probe');
  return new URL(enrollment.uri).searchParams.get('pin') ?? '';
}

describe('the control listener against strangers', () => {
  it('cuts silent, half-handshaken and hello-less connections at hello_timeout_ms, and caps them per address', async () => {
    const plane = await startControlPlane({ configToml: 'hello_timeout_ms = 500\n' });
    const port = plane.server.ports.control;
    const pin = await pinOf(plane);
    const silent = await rawConnect(port);
    const partial = await rawConnect(port);
    partial.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])); // 6 bytes of a ClientHello
    const quiet = await FakeEdge.connect({ port, pin });
    await Promise.all([closed(silent), closed(partial), quiet.closed]);
    expect(await serverMetric(plane, 'sluice_server_control_connections_cut_total', 'hello_timeout')).toBe(3);

    // 64 strangers from one address are held; the 65th is closed at once, before its deadline.
    const held = await Promise.all(Array.from({ length: 64 }, () => rawConnect(port)));
    const over = await rawConnect(port);
    await closed(over);
    expect(await serverMetric(plane, 'sluice_server_control_connections_cut_total', 'source_cap')).toBe(1);
    // Another address is not counted against this one: it is held until its own deadline.
    const elsewhere = await rawConnect(port, '127.0.0.2');
    for (const socket of held) socket.destroy();
    await closed(elsewhere);
    expect(await serverMetric(plane, 'sluice_server_control_connections_cut_total', 'hello_timeout')).toBe(4);
    expect(await serverMetric(plane, 'sluice_server_control_connections_cut_total', 'source_cap')).toBe(1);
    // The API never noticed.
    expect((await plane.api.edges()).length).toBe(1);
  });

  it('refuses a frame over 8 KiB before authentication from its length alone', async () => {
    const plane = await startControlPlane();
    const pin = await pinOf(plane);
    const stranger = await FakeEdge.connect({ port: plane.server.ports.control, pin });
    const head = Buffer.alloc(4);
    head.writeUInt32BE(PRE_AUTH_MAX_FRAME_BYTES + 1);
    stranger.sendRaw(head);
    await stranger.closed;
    const closedLog = await plane.server.waitForMsg('control session closed', { reason: 'protocol_error' });
    expect(closedLog.detail).toBe(
      `frame of ${PRE_AUTH_MAX_FRAME_BYTES + 1} bytes is over ${PRE_AUTH_MAX_FRAME_BYTES}`,
    );
  });

  it('locks out an address that guesses secrets and codes, with the same answer for an unknown edge', async () => {
    const plane = await startControlPlane();
    const port = plane.server.ports.control;
    const pin = await pinOf(plane);
    const hello = async (edgeId: string): Promise<string> => {
      const edge = await FakeEdge.connect({ port, pin });
      edge.hello(edgeId, 'sls_guess');
      const reply = await edge.next('refused');
      await edge.closed;
      return reply.code;
    };
    const known = (await plane.api.edges())[0]!.id;
    expect(await hello(known)).toBe('secret_invalid');
    expect(await hello('e_000000000000')).toBe('secret_invalid');
    for (let i = 0; i < 9; i++) expect(await hello(known)).toBe('secret_invalid');
    for (let i = 0; i < 9; i++) {
      expect(await enrollEdge({ port, pin }, `guessed-code-${i}-xxxxxxxxxx`)).toMatchObject({
        code: 'code_unknown',
      });
    }
    expect(await hello(known)).toBe('rate_limited');
    expect(await enrollEdge({ port, pin }, 'guessed-code-last-xxxxxxxxxx')).toMatchObject({
      code: 'rate_limited',
    });
    const failures = (reason: string) => serverMetric(plane, 'sluice_server_auth_failures_total', reason);
    expect(await failures('secret_invalid')).toBe(10);
    expect(await failures('edge_unknown')).toBe(1);
    expect(await failures('code_unknown')).toBe(9);
    expect(await failures('rate_limited')).toBe(2);
    await plane.server.waitForMsg(
      'control: too many failed hellos or enrollments from this address; refusing it for a while',
    );
    const lockouts = plane.server.logs.filter((log) =>
      String(log.msg).startsWith('control: too many failed'),
    );
    expect(lockouts).toHaveLength(1);
  });

  it('waits out a locked database on timers: /healthz answers meanwhile and the write lands', async () => {
    const plane = await startControlPlane();
    const other = new DatabaseSync(join(plane.dataDir, 'sluice.db'));
    other.exec('BEGIN IMMEDIATE');
    const write = plane.api.enroll('edge-during-lock');
    // Time for the request to reach the server and meet the lock (not a measurement).
    await new Promise((resolve) => setTimeout(resolve, 300));
    const health = await fetch(`${plane.server.apiUrl}/healthz`);
    expect(health.status).toBe(200);
    other.exec('ROLLBACK');
    other.close();
    expect((await write).edge.name).toBe('edge-during-lock');
  });
});
