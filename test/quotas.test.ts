// Monthly quotas end to end: a real sluice-server and a real managed edge (processes), a user's
// rules carrying traffic at full speed on loopback. The edge cuts the user within 1 MiB of the
// budget on the splice path, the JS path and UDP; refuses and counts what comes after; serves
// again when the quota is raised or a new period begins; and the usage the server keeps agrees
// with the bytes the clients sent across a SIGKILL of the server and then of the edge.

import { createSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { freePorts, pollUntil } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiClient } from './helpers/api-client.ts';
import { deferCleanup, listenUntilCleanup, runCleanup } from './helpers/cleanup.ts';
import { addEdge, type ControlPlane, restartServer, startControlPlane } from './helpers/control-plane.ts';
import { type ManagedEdgeHandle, startManagedEdge } from './helpers/managed-edge-process.ts';

afterEach(runCleanup);

const MiB = 2 ** 20;
const QUOTA = 64 * MiB;
const CHUNK = Buffer.alloc(256 * 1024, 0x61);
/** Stats every 200 ms: the server's view of the usage follows quickly. */
const CONFIG = 'stats_interval_secs = 0.2\n';

/** A TCP target that counts every byte it receives. */
async function countingSink(): Promise<{ port: number; received: () => number }> {
  let received = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  const port = await listenUntilCleanup(server, sockets);
  return { port, received: () => received };
}

/**
 * Writes to `port` as fast as the socket takes it, up to `limit` bytes, until the connection
 * ends; answers how it ended (reset or closed) and what was written.
 */
function blast(port: number, limit: number): Promise<{ written: number; reset: boolean }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let written = 0;
    let reset = false;
    const pump = (): void => {
      while (written < limit) {
        written += CHUNK.length;
        if (!socket.write(CHUNK)) return;
      }
      socket.end();
    };
    socket.on('connect', pump);
    socket.on('drain', pump);
    socket.on('error', (err: NodeJS.ErrnoException) => {
      reset = err.code === 'ECONNRESET' || err.code === 'EPIPE';
    });
    socket.on('close', () => resolve({ written, reset }));
  });
}

/** `count()` once it has not moved for 300 ms. */
async function settled(count: () => number): Promise<number> {
  let last = -1;
  return pollUntil(
    async () => {
      const now = count();
      const still = now === last;
      last = now;
      return still ? now : undefined;
    },
    { timeoutMs: 10_000, intervalMs: 300, what: 'the count to settle' },
  );
}

async function userRules(plane: ControlPlane): Promise<void> {
  const made = await plane.api.request('POST', '/v1/users', { name: 'dana', role: 'user' });
  expect(made.status, made.text).toBe(201);
}

async function setQuota(api: ApiClient, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const set = await api.request<Record<string, unknown>>('PUT', '/v1/users/dana/quotas/edge-01', body);
  expect(set.status, set.text).toBe(200);
  return set.body;
}

async function quotaStatus(api: ApiClient): Promise<{ usedBytes: number; exhaustedAt: string | null }> {
  const got = await api.request<{ usedBytes: number; exhaustedAt: string | null }>(
    'GET',
    '/v1/users/dana/quotas/edge-01',
  );
  expect(got.status, got.text).toBe(200);
  return got.body;
}

async function quotaRejects(edge: ManagedEdgeHandle, rule: string): Promise<number> {
  const json = await edge.metrics.json();
  return json.rules.find((r) => r.name === rule)?.rejected.quota_exhausted ?? -1;
}

/** A server, an edge (with `env`) and user dana with a TCP rule to a counting sink. */
async function tcpSetup(env: Record<string, string> = {}) {
  const plane = await startControlPlane({ configToml: CONFIG });
  const first = await addEdge(plane, 'edge-01');
  // The edge the test wants: the same bundle, with its environment.
  await first.process.kill();
  const edge = await startManagedEdge(first.bundle, { env });
  await userRules(plane);
  const sink = await countingSink();
  const [listen] = (await freePorts(1)) as [number];
  await plane.api.pushActive('edge-01', {
    name: 'bulk',
    listen: `127.0.0.1:${listen}`,
    targets: [`127.0.0.1:${sink.port}`],
    owner: 'dana',
  });
  return { plane, edge, sink, listen };
}

describe('monthly quotas on a managed edge', () => {
  for (const [path, env] of [
    ['native', {}],
    ['splice', { SLUICE_NO_NATIVE_ACCEPT: '1' }],
    ['JS', { SLUICE_NO_SPLICE: '1' }],
  ] as const) {
    it(`cut a user within 1 MiB of the budget at full speed on the ${path} path, refuse after, serve again when raised`, async () => {
      const { plane, edge, sink, listen } = await tcpSetup(env);
      await setQuota(plane.api, { monthlyBytes: QUOTA });

      const first = await blast(listen, 4 * QUOTA);
      expect(first.reset, 'the connection is reset at the budget').toBe(true);
      // Everything the sink got passed the edge; nothing past the budget did.
      const cut = await settled(sink.received);
      expect(Math.abs(cut - QUOTA), `the sink received ${cut} B of a ${QUOTA} B quota`).toBeLessThanOrEqual(
        MiB,
      );

      // A new connection is refused at once, and counted.
      const refused = await blast(listen, MiB);
      expect(refused.reset).toBe(true);
      expect(sink.received()).toBe(cut);
      await pollUntil(async () => ((await quotaRejects(edge, 'bulk')) >= 2 ? true : undefined), {
        timeoutMs: 5_000,
        what: 'two quota_exhausted rejects (the cut and the refusal)',
      });
      await edge.process.waitForMsg(
        'owner quota exhausted: new connections refused, open ones reset, datagrams dropped',
        {
          owner: 'dana',
        },
      );
      const status = await pollUntil(
        async () => {
          const s = await quotaStatus(plane.api);
          return s.usedBytes >= cut ? s : undefined;
        },
        { timeoutMs: 5_000, what: 'the server to count the usage' },
      );
      if (path !== 'JS') {
        // The splice path resets only once the kernel's send queues are empty: not a byte that
        // was counted is lost. The JS path cannot see those queues and resets after a grace.
        expect(status.usedBytes).toBe(cut);
      } else {
        expect(Math.abs(status.usedBytes - cut)).toBeLessThanOrEqual(MiB);
      }
      expect(status.exhaustedAt).not.toBeNull();

      // Raised by an admin: served again at once, up to the new budget.
      await setQuota(plane.api, { monthlyBytes: QUOTA + 8 * MiB });
      const again = await blast(listen, 4 * MiB);
      expect(again.reset).toBe(false);
      await pollUntil(async () => (sink.received() === cut + 4 * MiB ? true : undefined), {
        timeoutMs: 5_000,
        what: 'the sink to receive 4 MiB more',
      });
    }, 60_000);
  }

  it('drop UDP datagrams past the budget, within 1 MiB of it', async () => {
    const plane = await startControlPlane({ configToml: CONFIG });
    const edge = await addEdge(plane, 'edge-01');
    await userRules(plane);
    const sink = createSocket('udp4');
    let received = 0;
    sink.on('message', (message) => {
      received += message.length;
    });
    await new Promise<void>((resolve) => sink.bind(0, '127.0.0.1', resolve));
    deferCleanup(() => new Promise<void>((resolve) => sink.close(() => resolve())));
    const [listen] = (await freePorts(1)) as [number];
    await plane.api.pushActive('edge-01', {
      name: 'dgrams',
      protocol: 'udp',
      listen: `127.0.0.1:${listen}`,
      targets: [`127.0.0.1:${sink.address().port}`],
      owner: 'dana',
    });
    const quota = 16 * MiB;
    await setQuota(plane.api, { monthlyBytes: quota });
    const client = createSocket('udp4');
    deferCleanup(() => new Promise<void>((resolve) => client.close(() => resolve())));
    const datagram = Buffer.alloc(1400, 0x62);
    // Twice the budget, paced (about 30 MB/s) so no socket buffer overflows on the way: what the
    // sink misses, the edge dropped.
    for (let sent = 0; sent < 2 * quota; sent += 32 * datagram.length) {
      await Promise.all(
        Array.from(
          { length: 32 },
          () => new Promise<void>((resolve) => client.send(datagram, listen, '127.0.0.1', () => resolve())),
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await pollUntil(async () => ((await quotaRejects(edge, 'dgrams')) > 1000 ? true : undefined), {
      timeoutMs: 5_000,
      what: 'datagrams dropped as quota_exhausted',
    });
    const got = await settled(() => received);
    expect(Math.abs(got - quota), `the sink received ${got} B of a ${quota} B quota`).toBeLessThanOrEqual(
      MiB,
    );
  }, 60_000);

  it('count what the clients sent across a SIGKILL of the server, then of the edge', async () => {
    const { plane, edge, sink, listen } = await tcpSetup();
    await setQuota(plane.api, { monthlyBytes: 1024 * MiB });
    const send = async (bytes: number) => {
      const run = await blast(listen, bytes);
      expect(run.reset).toBe(false);
    };
    const usedReaches = (bytes: number) =>
      pollUntil(
        async () => {
          const s = await quotaStatus(plane.api);
          return s.usedBytes === bytes ? s : undefined;
        },
        { timeoutMs: 10_000, what: `the server's usage to reach ${bytes} B` },
      );
    await send(20 * MiB);
    await usedReaches(20 * MiB);

    // The server dies; the edge forwards on and counts; the restarted server folds it all.
    await plane.server.kill();
    await send(20 * MiB);
    await restartServer(plane);
    await plane.api.waitConnected('edge-01', true, 15_000);
    await usedReaches(40 * MiB);

    // The edge dies after the state file had a second to take the last bytes; a new process on
    // the same bundle counts on from it.
    await send(20 * MiB);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await edge.process.kill();
    const restarted = await startManagedEdge(edge.bundle, { metricsPort: edge.metricsPort });
    await restarted.process.waitForMsg('rules applied', {}, 10_000);
    await send(4 * MiB);
    await usedReaches(64 * MiB);
    expect(sink.received()).toBe(64 * MiB);
  }, 90_000);

  it('serve again by itself when a new period begins', async () => {
    const { plane, sink, listen } = await tcpSetup();
    // The current period began a month ago and ends in 4 s.
    const anchor = new Date(Date.now() + 4_000);
    anchor.setUTCMonth(anchor.getUTCMonth() - 1);
    const set = await setQuota(plane.api, { monthlyBytes: 2 * MiB, periodAnchor: anchor.toISOString() });
    const periodEnd = Date.parse(String(set.periodEnd));
    expect(periodEnd - Date.now()).toBeGreaterThan(2_000);
    expect((await blast(listen, 8 * MiB)).reset).toBe(true);
    expect((await blast(listen, MiB)).reset).toBe(true);
    const spent = sink.received();
    expect(spent).toBeLessThanOrEqual(2 * MiB);
    // After the period's end the server starts the next and pushes the budget.
    await pollUntil(async () => (Date.now() > periodEnd + 1_500 ? true : undefined), {
      timeoutMs: 10_000,
      intervalMs: 200,
      what: 'the period to end',
    });
    const served = await blast(listen, MiB);
    expect(served.reset).toBe(false);
    const status = await quotaStatus(plane.api);
    expect(Date.parse(String((status as Record<string, unknown>).periodStart))).toBe(periodEnd);
    expect(status.exhaustedAt).toBeNull();
  }, 60_000);
});
