// (a) push-to-Active latency and (b) replay to a reconnecting edge, with a real sluice-server
// and one real managed sluice-edge (enrolled through the API and `sluice-edge enroll`).
//
// (a) POST /v1/rules answers 201 only once the server pushed the rule, the edge bound its
//     listener and acked it `active`, and the store marked it Active: each request is timed from
//     before the request to the end of the 201's body, one request at a time, each rule on its own
//     loopback port (nothing ever connects to them). The edge is filled (untimed, a few requests
//     in flight) up to each of the plan's levels of rules held, and `pushes` are timed there: a
//     push should cost the same at 1 rule held as at 10,000.
// (b) With those rules stored, the edge is SIGKILLed and started again from its bundle. Measured:
//     from the spawn until the server logs `push acked` for the full push (then, as a check, until
//     the edge's own /metrics?format=json shows every rule `active`, polled from the ack on),
//     and, from the pino lines of both processes (ms timestamps, one clock), the replay itself:
//     the server's `edge connected` (it sends welcome and the full push right after) to its
//     `push acked` for that push, and the edge's `control connected` to its `rules applied`.

import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BENCH_ERRORS } from '../errors.ts';
import { freePorts } from '../ports.ts';
import { treePssKiB } from '../rss.ts';
import { makeTempDir } from '../temp-dir.ts';
import { type LatencySummary, summarizeLatency } from './latency.ts';
import type { LoggedProcess } from './logged-process.ts';
import { type ControlPlanePlan, PortSource, rulesHeldAtEnd } from './plan.ts';
import {
  edgeActiveRules,
  enrollRealEdge,
  type RunningServer,
  spawnRealEdge,
  startServer,
} from './processes.ts';
import { benchRule, type ServerApi } from './server-api.ts';

export interface ProcessMemory {
  readonly rssKiB: number;
  readonly pssKiB: number;
}

/** The timed pushes at one level: the edge held `rulesHeld` rules when the first came. */
export interface PushLevel {
  readonly rulesHeld: number;
  readonly latency: LatencySummary;
  /** fastify's elapsed time for the same requests (whole ms). */
  readonly serverLatency: LatencySummary | null;
}

export interface PushLatencyReport {
  /** Timed rules that reached Active (201), over every level. */
  readonly pushes: number;
  /** Rules the edge held at the end (the fill pushes included). */
  readonly rulesHeld: number;
  /** Requests that did not answer 201 (a port taken by something else: retried on the next port). */
  readonly retried: readonly string[];
  readonly shards: number;
  /** Wall time of the timed pushes, and pushes per second over it. */
  readonly seconds: number;
  readonly pushesPerSecond: number;
  /** Client side: the request (server-api.ts) to the end of the 201 body. */
  readonly latency: LatencySummary;
  /** Server side: fastify's elapsed time in the server's `api request` lines (whole ms). */
  readonly serverLatency: LatencySummary | null;
  /** The first push after the edge connected: the first warm-up push, else the first timed one. */
  readonly firstPushMs: number;
  /** Untimed pushes before the timed ones, their rules removed again (plan.warmup). */
  readonly warmupPushes: number;
  /** Latency against how many rules the edge already held. */
  readonly byLevel: readonly PushLevel[];
  /** After the last push: the edge's own metrics and the server's API, both counting Active rules. */
  readonly edgeActiveRules: number | null;
  readonly serverActiveRules: number;
  readonly serverMemory: ProcessMemory | null;
  readonly edgeMemory: ProcessMemory | null;
  /** Every sample in push order, ms. */
  readonly samplesMs: readonly number[];
}

export interface ReplayReport {
  readonly rules: number;
  readonly signal: 'SIGKILL';
  /** Spawn of the new edge process until its /metrics?format=json shows every rule active. */
  readonly startToAllActiveMs: number;
  /** How often the metrics were polled, from startToAckedMs on (the figure above is at most this much late). */
  readonly pollMs: number;
  /** From the edge's log lines, relative to the spawn: its rules file applied (none: null), ready. */
  readonly startToResumedMs: number | null;
  readonly startToEdgeReadyMs: number | null;
  /** Spawn until the server's `push acked` for the full push: every rule active, and the server knows. */
  readonly startToAckedMs: number;
  readonly startToControlConnectedMs: number | null;
  /** Server view: `edge connected` (welcome and full push sent right after) to `push acked`. */
  readonly serverReplayMs: number | null;
  /** Edge view: `control connected` (welcome received) to `rules applied` (full push applied, ack next). */
  readonly edgeReplayMs: number | null;
  /** What the full push's ack said, from the server's `push acked` line. */
  readonly ackedResults: number | null;
  readonly ackedFailed: number | null;
  /** The server logged `full push not acked in time` (its ack_timeout_ms, 2000 by default). */
  readonly ackTimeoutWarning: boolean;
}

export interface RealEdgeReport {
  readonly push: PushLatencyReport;
  readonly replay: ReplayReport | null;
  /** Why (b) did not complete, when it did not. */
  readonly replayError: string | null;
}

const EDGE_NAME = 'bench-edge';

function memoryOf(pid: number): ProcessMemory | null {
  const reading = treePssKiB(pid);
  return reading === null ? null : { rssKiB: reading.rssKiB, pssKiB: reading.kib };
}

export async function waitUntil(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs: number,
  intervalMs = 50,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw BENCH_ERRORS.error('timeout', { ms: timeoutMs, what });
    await sleep(intervalMs);
  }
}

async function edgeConnected(api: ServerApi, connected: boolean, name = EDGE_NAME): Promise<boolean> {
  return (await api.edge(name)).connected === connected;
}

/** Waits until the API says the edge `name` is connected (true) or gone (false). */
export function waitEdgeConnected(api: ServerApi, name: string, connected: boolean, timeoutMs = 30_000) {
  return waitUntil(
    () => edgeConnected(api, connected, name),
    `the server to see edge ${name} ${connected ? 'connected' : 'gone'}`,
    timeoutMs,
  );
}

function errorCode(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    return `${body.error?.code ?? '?'}: ${body.error?.message ?? ''}`;
  } catch {
    return text.slice(0, 200);
  }
}

export interface TimedPushes {
  /** The request to the end of the 201 body, ms, in push order. */
  readonly samples: readonly number[];
  /** Requests that did not answer 201 (a port taken by something else: retried on the next port). */
  readonly retried: readonly string[];
  /** Wall time of the whole sequence. */
  readonly seconds: number;
}

/**
 * `count` rules named `${prefix}${i}` pushed to the real edge `edgeName` through `api`, one at a
 * time, each on the next port of `ports`; every request timed. `onProgress` hears of every tenth.
 */
export async function pushTimed(
  api: ServerApi,
  edgeName: string,
  edge: LoggedProcess,
  count: number,
  ports: PortSource,
  prefix: string,
  onProgress: (done: number) => void = () => {},
): Promise<TimedPushes> {
  const samples: number[] = [];
  const retried: string[] = [];
  const started = performance.now();
  const step = Math.max(1, Math.round(count / 10));
  for (let i = 0; i < count; i++) {
    for (let attempt = 1; ; attempt++) {
      const port = ports.next();
      const t0 = performance.now();
      const response = await api.pushRule(edgeName, benchRule(`${prefix}${i}`, port));
      const ms = performance.now() - t0;
      if (response.status === 201) {
        samples.push(ms);
        break;
      }
      const what = `push ${i + 1} (port ${port}): ${response.status} ${errorCode(response.text)}`;
      // Only a port something else took in the meantime is worth another try.
      if (response.status !== 422 || !response.text.includes('port_in_use') || attempt >= 5) {
        throw new Error(`${what}\n${edge.process.describe()}`);
      }
      retried.push(what);
    }
    if ((i + 1) % step === 0) onProgress(i + 1);
  }
  return { samples, retried, seconds: (performance.now() - started) / 1000 };
}

/**
 * Pushes rules `${prefix}${from}` .. `${prefix}${to - 1}` untimed, `concurrency` requests in flight
 * (they take turns on the server's edge lock), each on the next port of `ports`.
 */
export async function fillRules(
  api: ServerApi,
  edgeName: string,
  edge: LoggedProcess,
  range: { readonly from: number; readonly to: number },
  ports: PortSource,
  prefix: string,
  concurrency: number,
): Promise<void> {
  let next = range.from;
  const worker = async (): Promise<void> => {
    while (next < range.to) {
      const i = next++;
      await pushTimed(api, edgeName, edge, 1, ports, `${prefix}${i}-`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

async function pushByLevel(
  server: RunningServer,
  edge: LoggedProcess,
  metricsPort: number,
  plan: ControlPlanePlan,
  log: (line: string) => void,
): Promise<PushLatencyReport> {
  const ports = new PortSource();
  const levels: PushLevel[] = [];
  const samples: number[] = [];
  const retried: string[] = [];
  const serverSamples: number[] = [];
  let held = 0;
  let seconds = 0;
  const warm = await warmUp(server, edge, plan.warmup, ports, log);
  for (const level of plan.levels) {
    if (level > held) {
      log(`push latency: filling the edge from ${held} to ${level} rules`);
      const fillFrom = server.proc.logs.length;
      await fillRules(
        server.api,
        EDGE_NAME,
        edge,
        { from: held, to: level },
        ports,
        'f',
        plan.pushConcurrency,
      );
      // The fill's last request lines may be logged after its answers arrive: wait for them, so
      // none is counted with the timed pushes below.
      await serverElapsed(server, fillFrom, level - held);
      held = level;
    }
    const logFrom = server.proc.logs.length;
    const timed = await pushTimed(server.api, EDGE_NAME, edge, plan.pushes, ports, `t${held}-`);
    samples.push(...timed.samples);
    retried.push(...timed.retried);
    seconds += timed.seconds;
    const serverMs = await serverElapsed(server, logFrom, timed.samples.length);
    serverSamples.push(...serverMs);
    const latency = summarizeLatency(timed.samples)!;
    levels.push({ rulesHeld: held, latency, serverLatency: summarizeLatency(serverMs) });
    log(`push latency at ${held} rules held: p50 ${latency.p50Ms} ms, p99 ${latency.p99Ms} ms`);
    held += timed.samples.length;
  }
  const serverActiveRules = (await server.api.rules(EDGE_NAME)).filter((r) => r.state === 'active').length;
  return {
    pushes: samples.length,
    rulesHeld: held,
    retried,
    shards: plan.shards,
    seconds: Math.round(seconds * 1000) / 1000,
    pushesPerSecond: Math.round((samples.length / seconds) * 10) / 10,
    latency: summarizeLatency(samples)!,
    serverLatency: summarizeLatency(serverSamples),
    firstPushMs: Math.round((warm[0] ?? samples[0]!) * 100) / 100,
    warmupPushes: warm.length,
    byLevel: levels,
    edgeActiveRules: await edgeActiveRules(metricsPort),
    serverActiveRules,
    serverMemory: memoryOf(server.pid),
    edgeMemory: memoryOf(edge.pid),
    samplesMs: samples.map((ms) => Math.round(ms * 100) / 100),
  };
}

/**
 * `count` rules pushed one at a time and then removed, untimed (plan.warmup): the server and the
 * edge have run every step of a push before the timed ones. Answers each push's time.
 */
async function warmUp(
  server: RunningServer,
  edge: LoggedProcess,
  count: number,
  ports: PortSource,
  log: (line: string) => void,
): Promise<readonly number[]> {
  if (count === 0) return [];
  log(`push latency: ${count} warm-up pushes, each rule removed after`);
  const pushed = await pushTimed(server.api, EDGE_NAME, edge, count, ports, 'w');
  for (const rule of await server.api.rules(EDGE_NAME)) {
    if (!/^w\d+$/.test(rule.name)) continue;
    const removed = await server.api.request('DELETE', `/v1/rules/${rule.id}`);
    if (removed.status !== 200) {
      throw new Error(`warm-up rule ${rule.name} not removed: ${removed.status} ${removed.text}`);
    }
  }
  return pushed.samples;
}

/** Room on the edge for every rule the run pushes (sluice-edge --max-rules; 4096 at least). */
function maxRulesFor(plan: ControlPlanePlan): number {
  return Math.max(4096, rulesHeldAtEnd(plan));
}

/** fastify's elapsed ms of the `count` POST /v1/rules 201s logged since `logFrom`. */
async function serverElapsed(server: RunningServer, logFrom: number, count: number): Promise<number[]> {
  // The server logs a request once its answer is out: the last lines may still be on their way.
  const created = (): number[] =>
    server.proc
      .find(
        'api request',
        (line) => line.method === 'POST' && line.url === '/v1/rules' && line.status === 201,
        logFrom,
      )
      .map((line) => Number(line.ms));
  for (let waited = 0; created().length < count && waited < 5000; waited += 20) await sleep(20);
  return created();
}

async function replay(
  server: RunningServer,
  bundle: string,
  metricsPort: number,
  plan: ControlPlanePlan,
  log: (line: string) => void,
  held: { edge: LoggedProcess | null },
  rules: number,
): Promise<ReplayReport> {
  const edgeId = (await server.api.edge(EDGE_NAME)).id;
  const previous = held.edge;
  if (previous === null) throw new Error('no edge to restart');
  previous.process.child.kill('SIGKILL');
  await previous.process.exited;
  await waitUntil(() => edgeConnected(server.api, false), 'the server to see the edge gone', 30_000);
  log(`replay: edge SIGKILLed; starting it again to replay ${rules} rules`);
  const serverFrom = server.proc.logs.length;
  const startedAt = Date.now();
  const t0 = performance.now();
  const edge = spawnRealEdge(bundle, plan.shards, metricsPort, maxRulesFor(plan));
  held.edge = edge;
  // A poll of /metrics?format=json builds the JSON of every rule in the edge's one thread:
  // polled every pollMs from the spawn on, it took a third of the edge's time during a replay
  // of 10,000 rules (--cpu-prof), and held up its session. So the replay is timed from the logs
  // (the server's ack of the full push ends it), and the metrics are polled only after it.
  const acked = await server.proc.waitFor(
    'push acked',
    (line) => line.edgeId === edgeId && line.results === rules,
    180_000,
    serverFrom,
  );
  let allActiveMs: number | null = null;
  const deadline = t0 + 180_000;
  while (allActiveMs === null) {
    const active = await edgeActiveRules(metricsPort);
    if (active !== null && active >= rules) allActiveMs = performance.now() - t0;
    else {
      if (!edge.process.running)
        throw new Error(`the edge exited during the replay\n${edge.process.describe()}`);
      if (performance.now() > deadline) {
        throw BENCH_ERRORS.error('timeout', {
          ms: 180_000,
          what: `${rules} rules active on the restarted edge`,
        });
      }
      await sleep(plan.pollMs);
    }
  }
  const sinceStart = (line: { time: number } | undefined): number | null =>
    line === undefined ? null : line.time - startedAt;
  const ready = edge.find('edge ready')[0];
  // Waited for, not looked up: an edge that resumed its rules file has them all active before
  // its session begins, and the metrics may say so before `control connected` is logged.
  const connected = await edge.waitFor('control connected', () => true, 10_000);
  const applied = await edge.waitFor('rules applied', (line) => line.full === true, 10_000);
  const serverConnected = server.proc.find('edge connected', (line) => line.edgeId === edgeId, serverFrom)[0];
  const resumed = edge.find(
    'rules resumed from the last applied set; the server reconciles them at the first session',
  )[0];
  const warned = server.proc.find(
    'full push not acked in time',
    (line) => line.edgeId === edgeId,
    serverFrom,
  );
  return {
    rules: rules,
    signal: 'SIGKILL',
    startToAllActiveMs: Math.round(allActiveMs),
    pollMs: plan.pollMs,
    startToResumedMs: sinceStart(resumed),
    startToEdgeReadyMs: sinceStart(ready),
    startToAckedMs: acked.time - startedAt,
    startToControlConnectedMs: sinceStart(connected),
    serverReplayMs: serverConnected === undefined ? null : acked.time - serverConnected.time,
    edgeReplayMs: applied.time - connected.time,
    ackedResults: typeof acked.results === 'number' ? acked.results : null,
    ackedFailed: Array.isArray(acked.failed) ? acked.failed.length : null,
    ackTimeoutWarning: warned.length > 0,
  };
}

export async function runRealEdge(
  plan: ControlPlanePlan,
  log: (line: string) => void,
): Promise<RealEdgeReport> {
  const dir = makeTempDir('control-plane');
  let server: RunningServer | null = null;
  const held: { edge: LoggedProcess | null } = { edge: null };
  try {
    server = await startServer(join(dir.path, 'data'));
    log(`push latency: sluice-server ready (pid ${server.pid}); enrolling a real sluice-edge`);
    const enrollment = await server.api.enroll(EDGE_NAME);
    const bundle = join(dir.path, 'edge.bundle');
    await enrollRealEdge(enrollment.uri, bundle);
    const [metricsPort] = await freePorts(1);
    const edge = spawnRealEdge(bundle, plan.shards, metricsPort!, maxRulesFor(plan));
    held.edge = edge;
    await edge.waitFor('control connected', () => true, 60_000);
    const api = server.api;
    await waitUntil(() => edgeConnected(api, true), 'the server to see the edge connected', 30_000);
    log(
      `push latency: edge connected (pid ${edge.pid}, ${plan.shards} shard); ${plan.pushes} timed pushes at ${plan.levels.join(', ')} rules held, ${rulesHeldAtEnd(plan)} rules in all`,
    );
    const push = await pushByLevel(server, edge, metricsPort!, plan, log);
    log(
      `push latency: p50 ${push.latency.p50Ms} ms, p99 ${push.latency.p99Ms} ms, max ${push.latency.maxMs} ms, ${push.pushesPerSecond} pushes/s`,
    );
    try {
      const replayed = await replay(server, bundle, metricsPort!, plan, log, held, push.rulesHeld);
      log(
        `replay: ${push.rulesHeld} rules acked ${replayed.startToAckedMs} ms after the spawn (resumed from the rules file at ${replayed.startToResumedMs ?? '–'} ms); replay ${replayed.serverReplayMs} ms (server view); metrics showed all active at ${replayed.startToAllActiveMs} ms`,
      );
      return { push, replay: replayed, replayError: null };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      log(`replay failed: ${message}`);
      return { push, replay: null, replayError: message };
    }
  } finally {
    if (held.edge !== null) await held.edge.process.stop('SIGTERM', 10_000);
    if (server !== null) await server.proc.process.stop('SIGTERM', 10_000);
    dir.remove();
  }
}
