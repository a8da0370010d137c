// The native path, the splice path and the JS path are the same relay to a user: a seeded set of connection
// scripts (0 B to 4 MiB each way; the client ending first, the target ending first, both sending
// at once, many small writes) runs through an edge on each path. Every connection must carry
// exactly the bytes sent, both ways, on both paths, and the rule's counters must equal the
// scripts' totals and each other.
//
// The seed is random per run and shown in the test name; rerun one with
// SLUICE_TEST_SEED=<seed> pnpm exec vitest run --project e2e test/relay-paths-agree.test.ts

import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { setImmediate as nextTick } from 'node:timers/promises';
import { freePort, pollUntil, seededRandom, withTimeout } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { runCleanup } from './helpers/cleanup.ts';
import { launchEdge } from './helpers/edge-fixture.ts';
import type { RuleMetrics } from './helpers/metrics.ts';
import {
  type Digest,
  drained,
  KIB,
  MIB,
  PayloadSink,
  PayloadSource,
  payloadDigest,
  sendPayload,
} from './helpers/payload.ts';
import { RELAY_PATHS, type RelayPath } from './helpers/relay-paths.ts';
import { startTarget } from './helpers/target-server.ts';
import { connectTcp } from './helpers/tcp-client.ts';

afterEach(runCleanup);

const SEED = parseSeed(process.env.SLUICE_TEST_SEED);
const SCRIPT_COUNT = 64;

function parseSeed(text: string | undefined): number {
  if (text === undefined || text === '') return Math.floor(Math.random() * 2 ** 32);
  const seed = Number(text);
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) {
    throw new Error(`SLUICE_TEST_SEED must be an integer in 0..2^32-1, got ${text}`);
  }
  return seed;
}

/**
 * - client-first: the client sends and ends; the target answers only after that FIN.
 * - target-first: the target sends and ends at once; the client answers only after that FIN.
 * - together: both send at once, each ending when done.
 * - trickle: both at once, in many writes of 1 B to 1 KiB.
 */
type Order = 'client-first' | 'target-first' | 'together' | 'trickle';
const ORDERS: readonly Order[] = ['client-first', 'target-first', 'together', 'trickle'];

interface Script {
  readonly index: number;
  readonly order: Order;
  /** Bytes client -> target. */
  readonly up: number;
  /** Bytes target -> client. */
  readonly down: number;
  /** trickle only: write sizes, cycled until the direction's bytes are written. */
  readonly writeSizes: readonly number[];
}

const seedOf = (script: Script, direction: 'up' | 'down'): string =>
  `agree-${SEED}-${script.index}-${direction}`;

function describeScript(script: Script): string {
  return `script ${script.index} (${script.order}, up ${script.up} B, down ${script.down} B, seed ${SEED})`;
}

function randomSize(rand: () => number): number {
  const r = rand();
  if (r < 0.1) return 0;
  if (r < 0.25) return 1 + Math.floor(rand() * 100);
  // Around the 64 KiB step at which both paths must flush their counters.
  if (r < 0.4) return 64 * KIB - 2 + Math.floor(rand() * 5);
  if (r < 0.7) return 100 * KIB + Math.floor(rand() * 924 * KIB);
  return MIB + Math.floor(rand() * 3 * MIB);
}

function makeScripts(seed: number, count: number): Script[] {
  const rand = seededRandom(seed);
  // The corners every run covers, whatever the seed.
  const fixed: Array<Pick<Script, 'order' | 'up' | 'down'>> = [
    { order: 'client-first', up: 0, down: 0 },
    { order: 'target-first', up: 0, down: 0 },
    { order: 'client-first', up: 4 * MIB, down: 0 },
    { order: 'target-first', up: 0, down: 4 * MIB },
    { order: 'together', up: 4 * MIB, down: 4 * MIB },
    { order: 'trickle', up: 1, down: 0 },
  ];
  return Array.from({ length: count }, (_, index): Script => {
    const order = fixed[index]?.order ?? ORDERS[index % ORDERS.length]!;
    const trickle = order === 'trickle';
    const up = fixed[index]?.up ?? (trickle ? Math.floor(rand() * 128 * KIB) : randomSize(rand));
    const down = fixed[index]?.down ?? (trickle ? Math.floor(rand() * 128 * KIB) : randomSize(rand));
    const writeSizes = trickle ? Array.from({ length: 64 }, () => 1 + Math.floor(rand() * KIB)) : [];
    return { index, order, up, down, writeSizes };
  });
}

/** Writes the seeded stream in the script's small writes, yielding now and then so they leave as separate segments. */
async function trickle(
  socket: Socket,
  seed: string,
  totalBytes: number,
  sizes: readonly number[],
): Promise<Digest> {
  const source = new PayloadSource(seed, totalBytes);
  const hash = createHash('sha256');
  let bytes = 0;
  for (let i = 0; ; i++) {
    const chunk = source.next(sizes[i % sizes.length]!);
    if (chunk === null) break;
    hash.update(chunk);
    bytes += chunk.length;
    if (!socket.write(chunk)) await drained(socket);
    if (i % 8 === 7) await nextTick();
  }
  await new Promise<void>((resolve) => socket.end(resolve));
  return { bytes, sha256: hash.digest('hex') };
}

function send(socket: Socket, script: Script, direction: 'up' | 'down'): Promise<Digest> {
  const bytes = direction === 'up' ? script.up : script.down;
  return script.order === 'trickle'
    ? trickle(socket, seedOf(script, direction), bytes, script.writeSizes)
    : sendPayload(socket, seedOf(script, direction), bytes);
}

interface SideResult {
  readonly sent: Digest;
  readonly received: Digest;
}

/** One side of a script: what it sends, when, and what it reads until the peer's FIN. */
async function playSide(socket: Socket, script: Script, side: 'client' | 'target'): Promise<SideResult> {
  const direction = side === 'client' ? 'up' : 'down';
  const received = new PayloadSink(socket).done;
  const answersLater =
    (script.order === 'client-first' && side === 'target') ||
    (script.order === 'target-first' && side === 'client');
  if (answersLater) {
    const got = await received;
    return { received: got, sent: await send(socket, script, direction) };
  }
  const [sent, got] = await Promise.all([send(socket, script, direction), received]);
  return { sent, received: got };
}

interface PathRun {
  readonly client: SideResult[];
  readonly target: SideResult[];
  readonly rule: RuleMetrics;
}

async function runScripts(relayPath: RelayPath, scripts: readonly Script[]): Promise<PathRun> {
  const targetResults: Array<Promise<SideResult>> = [];
  const target = await startTarget(
    (socket, index) => {
      const result = playSide(socket, scripts[index]!, 'target');
      result.catch(() => {});
      targetResults[index] = result;
    },
    { allowHalfOpen: true },
  );
  const listenPort = await freePort();
  const { metrics } = await launchEdge({
    relayPath,
    config: { shards: 2, rules: [{ name: 'agree', listenPort, targetPorts: [target.port] }] },
  });

  // Connections open one at a time (the target's n-th accepted socket is then script n), and
  // each script runs from the moment it is paired, so many run at once.
  const clientResults: Array<Promise<SideResult>> = [];
  for (const script of scripts) {
    const socket = await connectTcp(listenPort, { allowHalfOpen: true });
    await withTimeout(
      target.nextConnection(script.index),
      5_000,
      `the target to accept ${describeScript(script)}`,
    );
    const result = playSide(socket, script, 'client');
    result.catch(() => {});
    clientResults.push(result);
  }
  const settle = (results: Array<Promise<SideResult>>, side: string): Promise<SideResult[]> =>
    withTimeout(
      Promise.all(
        results.map((result, i) =>
          result.catch((err: Error) => {
            throw new Error(
              `${side} side of ${describeScript(scripts[i]!)} on the ${relayPath} path: ${err.message}`,
            );
          }),
        ),
      ),
      60_000,
      `every ${side} side on the ${relayPath} path (seed ${SEED})`,
    );
  const client = await settle(clientResults, 'client');
  const targetSides = await settle(targetResults, 'target');
  const rule = await pollUntil(
    async () => {
      const r = await metrics.rule('agree');
      return r.active_connections === 0 && r;
    },
    { timeoutMs: 10_000, what: `active_connections to return to 0 on the ${relayPath} path` },
  );
  return { client, target: targetSides, rule };
}

describe('relay paths agree', () => {
  it(`relay ${SCRIPT_COUNT} random connection scripts identically on the native, splice and JS paths (seed ${SEED})`, async () => {
    const scripts = makeScripts(SEED, SCRIPT_COUNT);
    const expected = scripts.map((script) => ({
      up: payloadDigest([seedOf(script, 'up'), script.up]),
      down: payloadDigest([seedOf(script, 'down'), script.down]),
    }));
    const totalUp = scripts.reduce((sum, s) => sum + s.up, 0);
    const totalDown = scripts.reduce((sum, s) => sum + s.down, 0);

    const runs = new Map<RelayPath, PathRun>();
    for (const relayPath of RELAY_PATHS) {
      const run = await runScripts(relayPath, scripts);
      runs.set(relayPath, run);
      for (const script of scripts) {
        const what = `${describeScript(script)} on the ${relayPath} path`;
        const client = run.client[script.index]!;
        const target = run.target[script.index]!;
        expect(client.sent, `${what}: client sent`).toEqual(expected[script.index]!.up);
        expect(target.received, `${what}: target received`).toEqual(expected[script.index]!.up);
        expect(target.sent, `${what}: target sent`).toEqual(expected[script.index]!.down);
        expect(client.received, `${what}: client received`).toEqual(expected[script.index]!.down);
      }
      const counters = `counters on the ${relayPath} path (seed ${SEED})`;
      expect(run.rule.bytes_in, counters).toBe(totalUp);
      expect(run.rule.bytes_out, counters).toBe(totalDown);
      expect(run.rule.connections_total, counters).toBe(SCRIPT_COUNT);
      expect(run.rule.active_connections, counters).toBe(0);
    }

    const pick = (run: PathRun) => ({
      bytes_in: run.rule.bytes_in,
      bytes_out: run.rule.bytes_out,
      connections_total: run.rule.connections_total,
      active_connections: run.rule.active_connections,
    });
    expect(pick(runs.get('splice')!), `splice vs js counters (seed ${SEED})`).toEqual(pick(runs.get('js')!));
    expect(pick(runs.get('native')!), `native vs js counters (seed ${SEED})`).toEqual(pick(runs.get('js')!));
  });
});
