// A shard dies while long transfers run through it and through its sibling (two shards, test
// hooks on, POST /debug/shards/0/crash). Half the transfers flow both ways at a steady pace; in
// the other half the client has stopped reading, so the edge holds bytes in flight for them
// (on the splice path: a pipe full of them). Transfers on shard 1 go on and complete byte for byte;
// transfers that were on shard 0 end (reset or closed) instead of hanging; once shard 0 has
// started again new transfers work, on it too; and when everything is closed the edge holds no
// descriptor more than before the crash.
//
// On the splice path the dead shard's connections live only in the addon (JS closed its own
// descriptors at hand-off), so it is the addon's cleanup hook that must close the duplicated
// sockets and the pipes: if it did not, shard 0's transfers would hang and its sockets and
// pipes would stay open in the process.

import type { Socket } from 'node:net';
import { freePort, pollUntil, withTimeout } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { runCleanup } from './helpers/cleanup.ts';
import { launchEdge } from './helpers/edge-fixture.ts';
import { describeFds, FD_SLACK, poolAllowance, waitForFdBaseline } from './helpers/fd-baseline.ts';
import type { MetricsClient } from './helpers/metrics.ts';
import { type Digest, KIB, MIB, PayloadSink, sendPayload } from './helpers/payload.ts';
import { fdKinds } from './helpers/proc-stats.ts';
import { RELAY_PATHS, splices } from './helpers/relay-paths.ts';
import { startTarget, type TargetServer } from './helpers/target-server.ts';
import { closed, connectTcp } from './helpers/tcp-client.ts';

afterEach(runCleanup);

const SHARDS = 2;
/** Each direction of a transfer writes 64 KiB every 10 ms (about 6 MiB/s) until told to stop. */
const CHUNK = 64 * KIB;
const PACE_MS = 10;
/** A stream longer than any test lets it run: transfers run until stopped (or cut). */
const ENDLESS = 1024 * MIB;
/** Transfers open until each shard carries at least this many. */
const PER_SHARD = 3;
const MAX_TRANSFERS = 32;

/**
 * Both directions of one connection: each side streams to the other until `stop()`. A stalled
 * transfer's client does not read until `release()`, and its target writes as fast as the
 * socket takes it, so the down direction fills every buffer on the way and then waits.
 */
interface Transfer {
  readonly index: number;
  readonly shard: number;
  readonly stalled: boolean;
  readonly client: Socket;
  readonly target: Socket;
  readonly up: Direction;
  readonly down: Direction;
  release(): void;
  stop(): void;
}

interface Direction {
  readonly sent: Promise<Digest>;
  /** Bytes handed to the sending socket so far. */
  readonly progress: { bytes: number };
  readonly sink: PayloadSink;
}

interface TargetSide {
  readonly socket: Socket;
  readonly stopFlag: { stopped: boolean };
  readonly sent: Promise<Digest>;
  readonly progress: { bytes: number };
  readonly sink: PayloadSink;
}

function stream(
  socket: Socket,
  seed: string,
  stopFlag: { stopped: boolean },
  paced: boolean,
): { sent: Promise<Digest>; progress: { bytes: number } } {
  const progress = { bytes: 0 };
  const sent = sendPayload(socket, seed, ENDLESS, {
    chunkBytes: CHUNK,
    ...(paced ? { paceMs: PACE_MS } : {}),
    stopWhen: () => stopFlag.stopped,
    onProgress: (bytes) => {
      progress.bytes = bytes;
    },
  });
  sent.catch(() => {});
  return { sent, progress };
}

class Transfers {
  readonly targetSides: TargetSide[] = [];
  readonly target: Promise<TargetServer>;
  /** Whether the connection the target accepts next belongs to a stalled transfer. */
  #stallNext = false;

  constructor() {
    this.target = startTarget(
      (socket, index) => {
        const stopFlag = { stopped: false };
        const { sent, progress } = stream(socket, `down-${index}`, stopFlag, !this.#stallNext);
        this.targetSides[index] = { socket, stopFlag, sink: new PayloadSink(socket), sent, progress };
      },
      { allowHalfOpen: true },
    );
  }

  /** Opens one transfer (one at a time) and finds the shard that took it from the per-shard counters. */
  async open(listenPort: number, metrics: MetricsClient, stalled = false): Promise<Transfer> {
    const target = await this.target;
    const index = target.accepted.length;
    const before = await shardTotals(metrics);
    this.#stallNext = stalled;
    const client = await connectTcp(listenPort, { allowHalfOpen: true });
    await withTimeout(target.nextConnection(index), 5_000, `the target to accept transfer ${index}`);
    const after = await pollUntil(
      async () => {
        const totals = await shardTotals(metrics);
        return totals.reduce((a, b) => a + b, 0) === before.reduce((a, b) => a + b, 0) + 1 && totals;
      },
      { timeoutMs: 5_000, what: `the counters to show transfer ${index}` },
    );
    const shard = after.findIndex((total, i) => total === before[i]! + 1);
    const side = this.targetSides[index]!;
    const clientStop = { stopped: false };
    const downSink = new PayloadSink(client);
    if (stalled) client.pause();
    return {
      index,
      shard,
      stalled,
      client,
      target: side.socket,
      up: { ...stream(client, `up-${index}`, clientStop, true), sink: side.sink },
      down: { sent: side.sent, progress: side.progress, sink: downSink },
      release() {
        client.resume();
      },
      stop() {
        clientStop.stopped = true;
        side.stopFlag.stopped = true;
      },
    };
  }
}

async function shardTotals(metrics: MetricsClient): Promise<number[]> {
  const rule = await metrics.rule('long');
  return Array.from(
    { length: SHARDS },
    (_, i) => rule.shards.find((s) => s.shard === i)?.connections_total ?? 0,
  );
}

/**
 * A stalled transfer's down direction is stuck: its target has had bytes waiting in user space
 * (every buffer on the way is full) across two looks, and has sent nothing in between.
 */
function stuckLooks(): (transfer: Transfer) => boolean {
  const lastSent = new Map<Transfer, number>();
  return (transfer) => {
    const sent = transfer.down.progress.bytes;
    const stuck = transfer.target.writableNeedDrain && lastSent.get(transfer) === sent;
    lastSent.set(transfer, sent);
    return stuck;
  };
}

/** Both directions have moved at least `bytes` past `from` (received counts per direction). */
function movedPast(transfer: Transfer, bytes: number, from = { up: 0, down: 0 }): boolean {
  return transfer.up.sink.bytes >= from.up + bytes && transfer.down.sink.bytes >= from.down + bytes;
}

/** Stops a transfer and checks both directions arrived whole. */
async function finishIntact(transfer: Transfer): Promise<void> {
  transfer.stop();
  const what = `transfer ${transfer.index} (shard ${transfer.shard})`;
  const [upSent, upGot, downSent, downGot] = await withTimeout(
    Promise.all([transfer.up.sent, transfer.up.sink.done, transfer.down.sent, transfer.down.sink.done]),
    10_000,
    `${what} to finish`,
  );
  expect(upGot, `${what}: client -> target`).toEqual(upSent);
  expect(downGot, `${what}: target -> client`).toEqual(downSent);
  expect(upSent.bytes, what).toBeGreaterThan(0);
  expect(downSent.bytes, what).toBeGreaterThan(0);
}

/** 'cut' when some direction failed or came up short, 'intact' when everything arrived. */
async function outcome(transfer: Transfer): Promise<'cut' | 'intact'> {
  const settled = await Promise.allSettled([
    transfer.up.sent,
    transfer.up.sink.done,
    transfer.down.sent,
    transfer.down.sink.done,
  ]);
  if (settled.some((s) => s.status === 'rejected')) return 'cut';
  const [upSent, upGot, downSent, downGot] = settled.map((s) => (s as PromiseFulfilledResult<Digest>).value);
  return upSent!.sha256 === upGot!.sha256 && downSent!.sha256 === downGot!.sha256 ? 'intact' : 'cut';
}

describe.each(RELAY_PATHS)('shard killed mid-transfer (%s path)', (relayPath) => {
  it("cuts the dead shard's transfers, completes the others, serves after the restart and leaks nothing", async () => {
    const transfers = new Transfers();
    const target = await transfers.target;
    const listenPort = await freePort();
    const { edge, metrics } = await launchEdge({
      relayPath,
      config: { shards: SHARDS, rules: [{ name: 'long', listenPort, targetPorts: [target.port] }] },
      env: { SLUICE_TEST_HOOKS: '1' },
    });
    // Pipes the process holds before any connection: stdio and event-loop internals.
    const startupPipes = fdKinds(edge.pid).pipeInodes;

    // Warm up (pipe pools, lazily made handles), then take the baseline with nothing open.
    for (let i = 0; i < 4; i++) {
      const warm = await transfers.open(listenPort, metrics);
      await pollUntil(() => movedPast(warm, 256 * KIB), {
        timeoutMs: 10_000,
        what: 'a warm-up transfer to flow',
      });
      await finishIntact(warm);
    }
    await pollUntil(async () => (await metrics.rule('long')).active_connections === 0, {
      timeoutMs: 10_000,
      what: 'warm-up connections to close',
    });
    const baseline = fdKinds(edge.pid);

    // Long transfers over both shards, stalled and flowing ones on each.
    const running: Transfer[] = [];
    const onShard = (shard: number): Transfer[] => running.filter((t) => t.shard === shard);
    const enough = (shard: number): boolean =>
      onShard(shard).length >= PER_SHARD &&
      onShard(shard).some((t) => t.stalled) &&
      onShard(shard).some((t) => !t.stalled);
    while (!enough(0) || !enough(1)) {
      if (running.length >= MAX_TRANSFERS) {
        const mix = (shard: number): string =>
          onShard(shard)
            .map((t) => (t.stalled ? 's' : 'f'))
            .join('');
        throw new Error(
          `after ${running.length} connections the shards carry [${mix(0)}] and [${mix(1)}] ` +
            `(s: stalled, f: flowing); each needs ${PER_SHARD} with both kinds`,
        );
      }
      running.push(await transfers.open(listenPort, metrics, running.length % 2 === 1));
    }
    const stuck = stuckLooks();
    await pollUntil(
      () =>
        running
          .map((t) => (t.stalled ? t.up.sink.bytes >= MIB && stuck(t) : movedPast(t, MIB)))
          .every(Boolean),
      {
        timeoutMs: 20_000,
        intervalMs: 100,
        what: 'every transfer to move 1 MiB each way, or up and be stuck down when stalled',
      },
    );
    const beforeCrash = fdKinds(edge.pid);
    // Pipes made since start-up: pooled ones and, on the splice path, one full pipe for each
    // stalled transfer (a direction holds its pipe while bytes are in flight).
    const heldBeforeCrash = [...beforeCrash.pipeInodes].filter((inode) => !startupPipes.has(inode));
    if (splices(relayPath)) {
      expect(heldBeforeCrash.length).toBeGreaterThanOrEqual(running.filter((t) => t.stalled).length);
    }

    const mark = edge.mark();
    const crash = await metrics.post('/debug/shards/0/crash');
    expect(crash.status, crash.body).toBeLessThan(300);
    await edge.waitForMsg('shard exited', { shard: 0 }, 5_000, mark);
    const atExit = new Map(onShard(1).map((t) => [t, { up: t.up.sink.bytes, down: t.down.sink.bytes }]));

    // Shard 0's transfers end, both of their sockets close, and none of them completes.
    const dead = onShard(0);
    await withTimeout(
      Promise.all(dead.flatMap((t) => [closed(t.client, 10_000), closed(t.target, 10_000)])),
      10_000,
      `the ${dead.length} transfers of the dead shard to end`,
    ).catch((err: Error) => {
      const open = dead.filter((t) => !t.client.closed || !t.target.closed).map((t) => t.index);
      throw new Error(`${err.message}; still open (hung): transfers ${open.join(', ')}\n${edge.describe()}`);
    });
    expect(await Promise.all(dead.map(outcome))).toEqual(dead.map(() => 'cut'));
    // A peer that only reads must not mistake the cut for a complete stream: both ends of every
    // dead-shard transfer see a reset, not a clean end.
    const endings = await Promise.all(
      dead
        .flatMap((t) => [t.down.sink.done, t.up.sink.done])
        .map((done) =>
          done.then(
            () => 'clean end',
            (err: NodeJS.ErrnoException) => err.code ?? err.message,
          ),
        ),
    );
    expect(endings).toEqual(endings.map(() => 'ECONNRESET'));

    // Shard 1's transfers keep flowing through the crash and the restart (the stalled ones
    // once their clients read again, from the bytes held in flight), then complete whole.
    const alive = onShard(1);
    for (const transfer of alive) transfer.release();
    await pollUntil(() => alive.every((t) => movedPast(t, MIB, atExit.get(t))), {
      timeoutMs: 20_000,
      what: "the surviving shard's transfers to move 1 MiB each way after the crash",
    });
    await edge.waitForMsg('shard started', { shard: 0 }, 15_000, mark);
    for (const transfer of alive) await finishIntact(transfer);
    expect((await metrics.json()).shards).toEqual({ configured: SHARDS, running: SHARDS, restarts: 1 });

    // New transfers work, and shard 0 (rebound after its start) takes some again.
    const fresh: Transfer[] = [];
    const freshDeadline = Date.now() + 30_000;
    while (fresh.at(-1)?.shard !== 0) {
      if (Date.now() > freshDeadline) {
        throw new Error(`none of ${fresh.length} new transfers reached the restarted shard 0 within 30 s`);
      }
      const transfer = await transfers.open(listenPort, metrics);
      fresh.push(transfer);
      await pollUntil(() => movedPast(transfer, 256 * KIB), {
        timeoutMs: 10_000,
        what: 'a new transfer to flow',
      });
      await finishIntact(transfer);
    }

    // Nothing left open: no active connection, and the descriptors are back to the baseline.
    await pollUntil(async () => (await metrics.rule('long')).active_connections === 0, {
      timeoutMs: 10_000,
      what: 'active_connections to return to 0',
    });
    const rule = await metrics.rule('long');
    expect(rule.shards.map((s) => s.active_connections)).toEqual([0, 0]);
    expect(rule.connections_total).toBe(4 + running.length + fresh.length);
    // Pools keep the pipes they were given back: shard 1's may have grown to one per direction
    // of its long transfers, the new shard 0's to one per direction of one transfer at a time.
    const pipeAllowance = splices(relayPath) ? poolAllowance(1, 2 * alive.length) + poolAllowance(1, 2) : 0;
    const after = await waitForFdBaseline(edge.pid, baseline, pipeAllowance);
    expect(after.sockets, describeFds(after, baseline)).toBeLessThanOrEqual(
      baseline.sockets + FD_SLACK.sockets,
    );

    // The pools make "pipes back to baseline" approximate; this makes it exact. Once shard 1 has
    // been restarted too (idle now), no pipe made after start-up and held before the first
    // crash may be left: shard 0's (full ones included) went with the crash, shard 1's with its
    // own restart.
    const mark1 = edge.mark();
    expect((await metrics.post('/debug/shards/1/crash')).status).toBeLessThan(300);
    await edge.waitForMsg('shard exited', { shard: 1 }, 5_000, mark1);
    await edge.waitForMsg('shard started', { shard: 1 }, 15_000, mark1);
    let left: string[] = heldBeforeCrash;
    await pollUntil(
      () => {
        const now = fdKinds(edge.pid).pipeInodes;
        left = heldBeforeCrash.filter((inode) => now.has(inode));
        return left.length === 0;
      },
      { timeoutMs: 10_000, intervalMs: 100, what: 'the pipes held before the crashes to be closed' },
    ).catch((err: Error) => {
      throw new Error(
        `${err.message}: ${left.length} of ${heldBeforeCrash.length} still open (${left.join(' ')})`,
      );
    });
  });
});
