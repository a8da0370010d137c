// Several control addresses against a real sluice-server (in process): an enrollment URI whose
// first address is dead enrolls with the second, the edge's bundle keeps both, and the running
// edge passes over the dead one. Then the server goes away and comes back, on the same data dir
// (so the same certificate and database, as a replica would share them), at the address that was
// dead: the edge's session ends and its next try, one backoff step later, is that address.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatEnrollUri, parseEnrollUri } from '@sluice/protocol';
import { startTestServer, type TestServer } from '@sluice/server/test-harness';
import { freePort } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient } from './helpers/api-client.ts';
import { deferCleanup, runCleanup } from './helpers/cleanup.ts';
import { enrollEdge, startManagedEdge } from './helpers/managed-edge-process.ts';
import { makeTempDir } from './helpers/temp-dir.ts';

afterEach(runCleanup);

async function serverAt(dir: string, controlPort: number): Promise<TestServer> {
  const test = await startTestServer({
    dir,
    config: { control: { host: '127.0.0.1', port: controlPort } },
  });
  let stopped = false;
  deferCleanup(() => (stopped ? undefined : test.stop()));
  const stop = test.stop;
  return {
    ...test,
    stop: async () => {
      stopped = true;
      await stop();
    },
  };
}

describe('an enrollment URI with several control addresses', () => {
  it('enrolls and connects past a dead first address, and moves there when it comes alive', async () => {
    const dir = makeTempDir();
    const first = await serverAt(dir, 0);
    const api = new ApiClient(first.apiUrl, first.adminToken);
    const made = await api.enroll('edge-r');
    // One replica for now: the URI names the control listener, as a single-address URI did.
    const issued = parseEnrollUri(made.uri);
    expect(issued.servers).toEqual([{ host: '127.0.0.1', port: first.controlPort }]);

    const dead = await freePort();
    const servers = [{ host: '127.0.0.1', port: dead }, ...issued.servers];
    const bundle = await enrollEdge(
      formatEnrollUri({ servers, pin: issued.pin, code: issued.code }),
      join(dir, 'edge.bundle'),
    );
    expect(JSON.parse(readFileSync(bundle, 'utf8'))).toMatchObject({
      version: 2,
      servers,
      edgeId: made.edge.id,
    });

    const edge = await startManagedEdge(bundle);
    const failed = edge.process.find('control connect failed', { server: `127.0.0.1:${dead}` });
    expect(failed).toMatchObject({
      reason: 'server_unreachable',
      next_server: `127.0.0.1:${first.controlPort}`,
    });
    // The first step of the default backoff: 0.5..1 s.
    expect(failed?.retry_in_ms).toBeLessThanOrEqual(1_000);
    expect(edge.process.find('control connected')).toMatchObject({
      server: `127.0.0.1:${first.controlPort}`,
    });
    await api.waitConnected('edge-r');

    // The server goes; the same one (data dir, certificate, database) comes up at the dead address.
    const mark = edge.process.mark();
    await first.stop();
    const ended = await edge.process.waitForMsg('control disconnected', {}, 10_000, mark);
    expect(ended).toMatchObject({
      server: `127.0.0.1:${first.controlPort}`,
      next_server: `127.0.0.1:${dead}`,
    });
    expect(ended.retry_in_ms).toBeLessThanOrEqual(1_000);
    const second = await serverAt(dir, dead);
    await edge.process.waitForMsg('control connected', { server: `127.0.0.1:${dead}` }, 15_000, mark);
    // The admin token was made with the database, on the first start.
    await new ApiClient(second.apiUrl, first.adminToken).waitConnected('edge-r');
  });
});
