// The traffic of the hand-over test, in a process of its own inside the test's network
// namespace: an echo target, a steady stream of short connections (connect, 32 bytes there and
// back, close) at a set rate, and one long transfer through the edge whose bytes come back
// hashed. It is driven over stdin, one command a line, and answers one JSON line each:
//   go        start the connections and the transfer          -> {"going":true}
//   after N   wait until N more round trips succeeded          -> {"ok":TOTAL}
//   finish    end the transfer, wait for its echo to end       -> {"transfer":{...}}
//   stop      stop starting connections, wait for the last     -> {"results":{...}}
// Every loop is bounded: a connection that gets no reply in 10 s counts as stalled.

import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { requireProgram, withTimeout } from '@sluice/test-kit';
import { killAtCleanup } from './cleanup.ts';

const LOAD_SCRIPT = `
const net = require('node:net');
const crypto = require('node:crypto');
const readline = require('node:readline');
const [rate, transferChunk, transferEveryMs] = process.argv.slice(1).map(Number);
const say = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
const target = net.createServer({ noDelay: true }, (s) => { s.on('error', () => {}); s.pipe(s); });
let listen = 0;
target.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => {
  const probe = net.createServer();
  probe.listen({ host: '127.0.0.1', port: 0 }, () => {
    listen = probe.address().port;
    probe.close(() => say({ target: target.address().port, listen }));
  });
});
const r = { started: 0, ok: 0, refused: 0, reset: 0, corrupt: 0, stalled: 0, errors: {}, longestGapMs: 0, slowestMs: 0 };
let inFlight = 0, lastOk = 0, running = false, startedAt = 0, ticker = null;
const waiters = [];
function settle(kind, code) {
  inFlight--;
  if (kind === 'ok') {
    r.ok++;
    const now = performance.now();
    if (lastOk > 0) r.longestGapMs = Math.max(r.longestGapMs, now - lastOk);
    lastOk = now;
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (r.ok >= waiters[i].at) { waiters[i].done(r.ok); waiters.splice(i, 1); }
    }
  } else if (kind === 'error') {
    if (code === 'ECONNREFUSED') r.refused++;
    else if (code === 'ECONNRESET' || code === 'EPIPE') r.reset++;
    else r.errors[code] = (r.errors[code] || 0) + 1;
  } else r[kind]++;
}
function roundTrip() {
  r.started++; inFlight++;
  const sent = crypto.randomBytes(32);
  const began = performance.now();
  let got = Buffer.alloc(0), done = false;
  const finish = (kind, code) => { if (done) return; done = true; clearTimeout(timer); socket.destroy(); settle(kind, code); };
  const socket = net.connect({ host: '127.0.0.1', port: listen, noDelay: true }, () => socket.write(sent));
  const timer = setTimeout(() => finish('stalled'), 10000);
  socket.on('data', (d) => {
    got = Buffer.concat([got, d]);
    if (got.length < sent.length) return;
    r.slowestMs = Math.max(r.slowestMs, performance.now() - began);
    finish(got.equals(sent) ? 'ok' : 'corrupt');
  });
  socket.on('error', (err) => finish('error', err.code || String(err)));
  socket.on('end', () => { if (!done) finish('corrupt'); });
}
const transfer = { sent: 0, received: 0, sentHash: crypto.createHash('sha256'), receivedHash: crypto.createHash('sha256'), error: null, writing: true };
let transferSocket = null, transferEnded = null;
function startTransfer() {
  transferSocket = net.connect({ host: '127.0.0.1', port: listen });
  transferEnded = new Promise((resolve) => {
    transferSocket.on('end', resolve);
    transferSocket.on('close', resolve);
  });
  transferSocket.on('error', (err) => { transfer.error = err.code || String(err); });
  transferSocket.on('data', (d) => { transfer.received += d.length; transfer.receivedHash.update(d); });
  const pump = () => {
    if (!transfer.writing) return;
    const chunk = crypto.randomBytes(transferChunk);
    transfer.sent += chunk.length; transfer.sentHash.update(chunk);
    if (transferSocket.write(chunk)) setTimeout(pump, transferEveryMs);
    else transferSocket.once('drain', () => setTimeout(pump, transferEveryMs));
  };
  transferSocket.on('connect', pump);
}
function tick() {
  const due = Math.floor(((performance.now() - startedAt) * rate) / 1000);
  while (r.started < due && inFlight < 2000) roundTrip();
}
readline.createInterface({ input: process.stdin }).on('line', async (line) => {
  const [cmd, arg] = line.split(' ');
  if (cmd === 'go') { running = true; startedAt = performance.now(); ticker = setInterval(tick, 5); startTransfer(); say({ going: true }); }
  else if (cmd === 'after') { const at = r.ok + Number(arg); waiters.push({ at, done: (ok) => say({ ok }) }); }
  else if (cmd === 'finish') {
    transfer.writing = false; transferSocket.end();
    await transferEnded;
    say({ transfer: { sent: transfer.sent, received: transfer.received, intact: transfer.sent === transfer.received && transfer.sentHash.digest('hex') === transfer.receivedHash.digest('hex'), error: transfer.error } });
  } else if (cmd === 'stop') {
    clearInterval(ticker);
    for (let i = 0; i < 1200 && inFlight > 0; i++) await new Promise((res) => setTimeout(res, 10));
    say({ results: { ...r, inFlight } });
    process.exit(0);
  }
});
`;

export interface LoadResults {
  readonly started: number;
  readonly ok: number;
  readonly refused: number;
  readonly reset: number;
  readonly corrupt: number;
  readonly stalled: number;
  readonly errors: Readonly<Record<string, number>>;
  /** The longest time between two round trips that succeeded one after the other. */
  readonly longestGapMs: number;
  /** The slowest round trip, connect to echo. */
  readonly slowestMs: number;
  readonly inFlight: number;
}

export interface TransferResult {
  readonly sent: number;
  readonly received: number;
  readonly intact: boolean;
  readonly error: string | null;
}

export class HandoverLoad {
  readonly target: number;
  /** A port free in the namespace, for the edge's rule. */
  readonly listen: number;
  private readonly child: ChildProcess;
  private readonly lines: Interface;
  private readonly replies: string[] = [];
  private wake: (() => void) | null = null;

  private constructor(child: ChildProcess, lines: Interface, first: { target: number; listen: number }) {
    this.child = child;
    this.lines = lines;
    this.target = first.target;
    this.listen = first.listen;
    lines.on('line', (line) => {
      this.replies.push(line);
      this.wake?.();
    });
  }

  /** Starts the load process in `netns` at `rate` new connections/s; the transfer writes `chunk` bytes every `everyMs`. */
  static async start(netns: string, rate: number, chunk: number, everyMs: number): Promise<HandoverLoad> {
    const child = spawn(
      requireProgram('ip', 'iproute2'),
      [
        'netns',
        'exec',
        netns,
        process.execPath,
        '-e',
        LOAD_SCRIPT,
        String(rate),
        String(chunk),
        String(everyMs),
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    killAtCleanup(child);
    const lines = createInterface({ input: child.stdout! });
    const first = await withTimeout(
      new Promise<string>((resolve) => lines.once('line', resolve)),
      20_000,
      'the load process to report its ports',
    );
    return new HandoverLoad(child, lines, JSON.parse(first) as { target: number; listen: number });
  }

  private async ask(command: string, timeoutMs: number): Promise<Record<string, unknown>> {
    this.child.stdin!.write(`${command}\n`);
    const reply = await withTimeout(
      (async () => {
        while (this.replies.length === 0) await new Promise<void>((resolve) => (this.wake = resolve));
        return this.replies.shift()!;
      })(),
      timeoutMs,
      `the load process to answer ${command}`,
    );
    return JSON.parse(reply) as Record<string, unknown>;
  }

  async go(): Promise<void> {
    await this.ask('go', 10_000);
  }

  /** Resolves once `count` more round trips succeeded. */
  async after(count: number, timeoutMs = 30_000): Promise<void> {
    await this.ask(`after ${count}`, timeoutMs);
  }

  async finishTransfer(timeoutMs = 60_000): Promise<TransferResult> {
    return (await this.ask('finish', timeoutMs)).transfer as TransferResult;
  }

  async stop(): Promise<LoadResults> {
    const results = (await this.ask('stop', 30_000)).results as LoadResults;
    this.lines.close();
    return results;
  }
}
