// The pipe budget: how much an unprivileged edge's shards may hold (pipeBudgetPages), and that
// the addon's pool holds its pipes within the budget it is given while every connection still
// gets a pipe and every byte.

import { connect, createServer, type Server, type Socket } from 'node:net';
import { Counters } from '@sluice/counters';
import { pollUntil } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { loadSplice } from './index.ts';
import type { NativeSplice } from './native.ts';
import { pipeBudgetPages } from './pipe-budget.ts';
import {
  COUNTER_FIELDS,
  closeServer,
  listen,
  receivePayload,
  SpliceFront,
  sendPayload,
} from './relay-harness.fixture.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const PAGE = 4096;
const STATUS_ROOT = 'Name:\tnode\nCapEff:\t000001ffffffffff\n';
const STATUS_USER = 'Name:\tnode\nCapEff:\t0000000000000000\n';
// CAP_NET_BIND_SERVICE alone (bit 10), as a unit might grant: not an exemption.
const STATUS_BIND_ONLY = 'Name:\tnode\nCapEff:\t0000000000000400\n';

describe('pipeBudgetPages', () => {
  it('shares three quarters of the soft limit among the threads of an unprivileged process', () => {
    expect(pipeBudgetPages(2, { softLimit: '16384\n', status: STATUS_USER })).toBe(6144);
    expect(pipeBudgetPages(1, { softLimit: '16384\n', status: STATUS_BIND_ONLY })).toBe(12288);
    expect(pipeBudgetPages(3, { softLimit: '16384\n', status: STATUS_USER })).toBe(4096);
  });

  it('is 0 (no limit) for a process with CAP_SYS_RESOURCE or CAP_SYS_ADMIN, as the kernel exempts them', () => {
    expect(pipeBudgetPages(2, { softLimit: '16384', status: STATUS_ROOT })).toBe(0);
    expect(pipeBudgetPages(2, { softLimit: '16384', status: 'CapEff:\t0000000001000000\n' })).toBe(0);
    expect(pipeBudgetPages(2, { softLimit: '16384', status: 'CapEff:\t0000000000200000\n' })).toBe(0);
  });

  it('is 0 when the soft limit is off, unreadable or not a number', () => {
    expect(pipeBudgetPages(2, { softLimit: '0\n', status: STATUS_USER })).toBe(0);
    expect(pipeBudgetPages(2, { softLimit: 'many', status: STATUS_USER })).toBe(0);
    expect(pipeBudgetPages(2, null)).toBe(0);
  });

  it('never answers less than a page, however many threads share it', () => {
    expect(pipeBudgetPages(1000, { softLimit: '4', status: STATUS_USER })).toBe(1);
    expect(pipeBudgetPages(0, { softLimit: '8', status: STATUS_USER })).toBe(6);
  });
});

describe('the pool within a budget', () => {
  const splice = loadSplice() as NativeSplice;
  const view = new Counters(Counters.allocate(1, 16));
  const servers: Server[] = [];
  const sockets: Socket[] = [];

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await pollUntil(() => splice.stats().relays === 0, { timeoutMs: 5_000, what: 'every relay closed' });
    for (const server of servers.splice(0)) await closeServer(server);
  });

  /**
   * `count` connections whose target does not read until told to, each sending `bytes`: every
   * pipe fills and stays in use. Answers the pipe bytes held at the peak and what arrived.
   */
  async function stuckTransfers(budgetPages: number, count: number, bytes: number) {
    splice.init(view.words.buffer as SharedArrayBuffer, COUNTER_FIELDS, undefined, { budgetPages });
    const arrived: Promise<{ bytes: number }>[] = [];
    const held: Socket[] = [];
    const target = createServer({ pauseOnConnect: true }, (socket) => {
      held.push(socket);
      sockets.push(socket);
      arrived.push(receivePayload(socket));
    });
    servers.push(target);
    const front = await new SpliceFront(splice, {
      targetPort: await listen(target),
      row: view.row(0, 0),
    }).start();
    const sent: Promise<string>[] = [];
    for (let i = 0; i < count; i++) {
      const client = connect({ port: front.port, host: '127.0.0.1' });
      sockets.push(client);
      client.on('error', () => {});
      sent.push(sendPayload(client, bytes));
    }
    await front.started(count);
    await pollUntil(() => splice.stats().pipesInUse === count, {
      timeoutMs: 10_000,
      what: 'a pipe for each',
    });
    // Let the pipes fill: held bytes stop growing once every pipe is full.
    let peak = 0;
    await pollUntil(
      () => {
        const now = splice.stats().pipeBytes;
        const settled = now === peak;
        peak = Math.max(peak, now);
        return settled;
      },
      { timeoutMs: 10_000, intervalMs: 200, what: 'the pipes settled' },
    );
    for (const socket of held) socket.resume();
    const received = await Promise.all(arrived);
    await Promise.all(sent);
    await pollUntil(() => splice.stats().pipesInUse === 0, {
      timeoutMs: 10_000,
      what: 'every pipe given back',
    });
    await front.close();
    return { peak, received: received.map((r) => r.bytes), pooledBytes: splice.stats().pipeBytes };
  }

  it('without a budget, every pipe is asked for 1 MiB', async () => {
    const { peak, received } = await stuckTransfers(0, 4, 8 * MiB);
    expect(peak).toBe(4 * MiB);
    expect(received).toEqual([8 * MiB, 8 * MiB, 8 * MiB, 8 * MiB]);
  });

  it('within a budget, new pipes shrink with what is left, every connection still gets one, and the pool keeps a quarter', async () => {
    const budget = 128 * PAGE; // 512 KiB
    const { peak, received, pooledBytes } = await stuckTransfers(128, 6, 4 * MiB);
    // Each new pipe takes at most an eighth of what is left, and never less than 16 KiB.
    expect(peak).toBeLessThanOrEqual(budget);
    expect(peak).toBeGreaterThanOrEqual(6 * 16 * KiB);
    expect(received).toEqual(Array.from({ length: 6 }, () => 4 * MiB));
    expect(pooledBytes).toBeGreaterThan(0);
    expect(pooledBytes).toBeLessThanOrEqual(budget / 4);
  });
});
