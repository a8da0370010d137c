// Enrollment against a real sluice-server: every refusal that can be made to happen quickly,
// each one leaving the code it did not spend usable. A wrong pin is found before the code is
// sent (pin_mismatch, exit 3); used, superseded, unknown and expired codes are refused by the
// server (exit 4). Then the control session's own refusals of a running edge: a secret that
// does not match (also after the edge was enrolled again) and an edge id the server does not
// know are retried at the longest backoff while the edge stays up.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { freePort } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { runCleanup } from './helpers/cleanup.ts';
import { addEdge, type ControlPlane, enrollmentViaCtl, startControlPlane } from './helpers/control-plane.ts';
import { runEdgeCommand } from './helpers/edge-process.ts';
import { enrollCommand, enrollEdge, startManagedEdge } from './helpers/managed-edge-process.ts';
import { findSamples, MetricsClient } from './helpers/metrics.ts';

afterEach(runCleanup);

function withParam(uri: string, key: 'pin' | 'code', value: string): string {
  const url = new URL(uri);
  url.searchParams.set(key, value);
  return url.toString();
}

function param(uri: string, key: 'pin' | 'code'): string {
  return new URL(uri).searchParams.get(key)!;
}

/** The count of sluice_server_auth_failures_total{reason} on the server's /metrics. */
async function authFailures(plane: ControlPlane, reason: string): Promise<number> {
  const samples = await new MetricsClient(plane.server.ports.metrics).samples();
  return findSamples(samples, 'sluice_server_auth_failures_total', { reason })[0]?.value ?? 0;
}

describe('enrollment against sluice-server', () => {
  it('refuses a wrong pin, used, superseded, unknown and expired codes; a refusal never spends a good code', async () => {
    const plane = await startControlPlane();
    const { api, dir } = plane;
    const bundle = (name: string) => join(dir, `${name}.bundle`);

    // A wrong pin: found before a byte is sent, naming both fingerprints; the code is not spent.
    const code = await api.enroll('edge-a');
    const pin = param(code.uri, 'pin');
    const wrongPin = createHash('sha256').update('some other certificate').digest('hex');
    const mismatch = await enrollCommand(withParam(code.uri, 'pin', wrongPin), bundle('a-wrong'));
    expect(mismatch.code, mismatch.stderr).toBe(3);
    expect(mismatch.stderr).toMatch(/^pin_mismatch: /);
    expect(mismatch.stderr).toContain(pin);
    expect(mismatch.stderr).toContain(wrongPin);
    expect(existsSync(bundle('a-wrong'))).toBe(false);
    expect((await api.edge('edge-a')).enrolledAt).toBeNull();

    // A bundle path that is taken: refused before connecting, the code still good.
    writeFileSync(bundle('a-taken'), 'something else\n');
    const taken = await enrollCommand(code.uri, bundle('a-taken'));
    expect(taken.code, taken.stderr).toBe(2);
    expect(taken.stderr).toMatch(/^bundle_exists: /);
    expect(readFileSync(bundle('a-taken'), 'utf8')).toBe('something else\n');

    // An unknown code (same server, same pin).
    const unknown = await enrollCommand(
      withParam(code.uri, 'code', `${param(code.uri, 'code')}x`),
      bundle('a-x'),
    );
    expect(unknown.code, unknown.stderr).toBe(4);
    expect(unknown.stderr).toMatch(/^code_unknown: /);
    expect(existsSync(bundle('a-x'))).toBe(false);

    // The right URI works after all of them; its bundle names the server, the pin and the edge.
    await enrollEdge(code.uri, bundle('a'));
    const written = JSON.parse(readFileSync(bundle('a'), 'utf8')) as Record<string, unknown>;
    expect(written).toMatchObject({
      version: 2,
      servers: [{ host: '127.0.0.1', port: plane.server.ports.control }],
      pin,
      edgeId: code.edge.id,
      name: 'edge-a',
    });
    expect((await api.edge('edge-a')).enrolledAt).not.toBeNull();

    // Used once: refused the second time, and the first bundle is not disturbed.
    const reused = await enrollCommand(code.uri, bundle('a-again'));
    expect(reused.code, reused.stderr).toBe(4);
    expect(reused.stderr).toMatch(/^code_used: /);
    expect(existsSync(bundle('a-again'))).toBe(false);

    // Superseded: a second code for the same edge (sluicectl this time) retires the first.
    const first = await api.enroll('edge-b');
    const second = await enrollmentViaCtl(plane, 'edge-b');
    expect(second.edge.id).toBe(first.edge.id);
    const superseded = await enrollCommand(first.uri, bundle('b-first'));
    expect(superseded.code, superseded.stderr).toBe(4);
    expect(superseded.stderr).toMatch(/^code_superseded: /);
    await enrollEdge(second.uri, bundle('b'));

    // Expired: the shortest ttl is a minute, so the code's expiry is moved into the past in the
    // database (as the clock would, a minute later) while the server runs.
    const expiring = await api.enroll('edge-c', '1m');
    expect(Date.parse(expiring.expiresAt) - Date.now()).toBeGreaterThan(50_000);
    const db = new DatabaseSync(join(plane.dataDir, 'sluice.db'), { timeout: 5_000 });
    try {
      const moved = db
        .prepare('UPDATE enrollments SET expires_at = ? WHERE edge_id = ? AND used_at IS NULL')
        .run(Date.now() - 1_000, expiring.edge.id);
      expect(moved.changes).toBe(1);
    } finally {
      db.close();
    }
    const expired = await enrollCommand(expiring.uri, bundle('c'));
    expect(expired.code, expired.stderr).toBe(4);
    expect(expired.stderr).toMatch(/^code_expired: /);
    expect(existsSync(bundle('c'))).toBe(false);
    // A fresh code for it works.
    await enrollEdge((await api.enroll('edge-c')).uri, bundle('c'));

    // Not a server at all, and not a URI: exit 3 and 2, before any code could be spent.
    const closedPort = await freePort();
    const nobody = await enrollCommand(
      `sluice://127.0.0.1:${closedPort}/enroll?pin=${pin}&code=${param(code.uri, 'code')}`,
      bundle('nobody'),
    );
    expect(nobody.code, nobody.stderr).toBe(3);
    expect(nobody.stderr).toMatch(/^server_unreachable: /);
    const badUri = await runEdgeCommand([
      'enroll',
      code.uri.replace('sluice://', 'https://'),
      '--bundle',
      bundle('bad'),
    ]);
    expect(badUri.code, badUri.stderr).toBe(2);
    expect(badUri.stderr).toMatch(/^enroll_uri_invalid: /);

    // Every enrolled edge can run: the three bundles connect.
    await Promise.all(['a', 'b', 'c'].map((name) => startManagedEdge(bundle(name))));
    expect((await api.edges()).map((e) => [e.name, e.connected])).toEqual([
      ['edge-a', true],
      ['edge-b', true],
      ['edge-c', true],
    ]);
  });

  it('refuses a hello with a wrong secret or an unknown edge id; enrolling again retires the old secret', async () => {
    const plane = await startControlPlane();
    const { api } = plane;
    const edgeA = await addEdge(plane, 'edge-a');
    const original = JSON.parse(readFileSync(edgeA.bundle, 'utf8')) as Record<string, unknown>;
    const variant = (name: string, change: Record<string, unknown>): string => {
      const file = join(plane.dir, name);
      writeFileSync(file, JSON.stringify({ ...original, ...change }), { mode: 0o600 });
      return file;
    };
    expect(await authFailures(plane, 'secret_invalid')).toBe(0);

    // A wrong secret: refused, retried at the longest backoff, and the edge stays up.
    const forged = await startManagedEdge(variant('forged.bundle', { secret: 'sls_not-the-secret' }), {
      waitConnected: false,
    });
    const refusal = await forged.process.waitForMsg('control refused', { reason: 'secret_invalid' });
    expect(refusal.retry_in_ms).toBeGreaterThanOrEqual(15_000);
    expect(refusal.retry_in_ms).toBeLessThanOrEqual(30_000);
    expect(await authFailures(plane, 'secret_invalid')).toBe(1);
    // The real edge-a keeps its session.
    expect(await api.edge('edge-a')).toMatchObject({ connected: true });

    // An edge id the server never made.
    const stranger = await startManagedEdge(variant('stranger.bundle', { edgeId: 'e_000000000000' }), {
      waitConnected: false,
    });
    // The same answer as a wrong secret: a stranger cannot tell which edge ids exist.
    await stranger.process.waitForMsg('control refused', { reason: 'secret_invalid' });
    expect(await authFailures(plane, 'edge_unknown')).toBe(1);
    expect(forged.process.exitStatus).toBeNull();
    expect(stranger.process.exitStatus).toBeNull();

    // Enrolling edge-a again gives it a new secret: the session on the old one ends, and the old
    // bundle is refused when it comes back; the new bundle connects.
    const mark = edgeA.process.mark();
    const renewed = await enrollEdge((await api.enroll('edge-a')).uri, join(plane.dir, 'a-renewed.bundle'));
    await edgeA.process.waitForMsg('control disconnected', {}, 10_000, mark);
    await edgeA.process.waitForMsg('control refused', { reason: 'secret_invalid' }, 10_000, mark);
    await api.waitConnected('edge-a', false);
    await edgeA.process.kill();
    await startManagedEdge(renewed);
    await api.waitConnected('edge-a');
    expect((await api.edges()).map((e) => e.name)).toEqual(['edge-a']);
  });
});
