// udp_receive_buffer and the kernel's receive-buffer drops, on both UDP paths (the addon's flow
// path and node:dgram), over real loopback sockets. A burst overflows a tiny buffer
// deterministically: the datagrams come from a child process run with spawnSync, which blocks
// this thread's loop (and so the rule, which reads its sockets on it) until the burst is sent.

import { spawn, spawnSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseStandaloneConfig, type RuleSpec } from '@sluice/config';
import { Counters, FIELD } from '@sluice/counters';
import { NO_LIMITS, QosTable } from '@sluice/qos';
import { loadSplice } from '@sluice/splice';
import { freePorts, pollUntil, removeDir, tempDir, udpBurst } from '@sluice/test-kit';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionBudget } from './connection-budget.ts';
import { ConnectionGate } from './connection-gate.ts';
import { DnsCache } from './dns-cache.ts';
import type { LogFn } from './log-fn.ts';
import { selectRelayPath } from './relay-select.ts';
import { NativeUdpRule } from './udp-native-rule.ts';
import { UdpRule } from './udp-rule.ts';
import type { UdpRuleBase } from './udp-rule-base.ts';

const BURST = 300;
const DATAGRAM_BYTES = 1000;

const native = loadSplice();
const counters = new Counters(Counters.allocate(1, 16));
const qos = new QosTable(QosTable.allocate(16, 16));
let slots = 0;

beforeAll(() => {
  expect(native, 'the splice addon must be built on Linux').not.toBeNull();
  // As a shard does: the addon counts into these counters and charges these caps.
  selectRelayPath({ counters: counters.words.buffer as SharedArrayBuffer, qos: qos.buffer, shards: 1 });
});

const open: { close(): void }[] = [];
afterEach(() => {
  for (const thing of open.splice(0).reverse()) thing.close();
});

/** A target that counts what reaches it. */
async function sink(): Promise<{ port: number; received: () => number }> {
  const socket: Socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  open.push(socket);
  let received = 0;
  socket.on('message', () => received++);
  return { port: socket.address().port, received: () => received };
}

function udpRule(listenPort: number, targetPort: number, receiveBuffer: string): RuleSpec {
  const toml = `
[[rules]]
name = "burst"
protocol = "udp"
listen = "127.0.0.1:${listenPort}"
targets = ["127.0.0.1:${targetPort}"]
udp_receive_buffer = "${receiveBuffer}"
`;
  return parseStandaloneConfig(toml, 'udp-receive-buffer.test.toml').rules[0]!;
}

const PATHS = ['addon', 'node:dgram'] as const;

async function start(
  path: (typeof PATHS)[number],
  receiveBuffer: string,
  log: LogFn = () => {},
  targetPort?: number,
) {
  const [listenPort] = await freePorts(1);
  const target = await sink();
  const slot = slots++;
  qos.configure(qos.rule(slot), NO_LIMITS);
  const accounts = {
    counters,
    row: counters.row(slot, 0),
    qos,
    qosRule: qos.rule(slot),
    qosOwner: qos.owner(slot),
  };
  const spec = udpRule(listenPort!, targetPort ?? target.port, receiveBuffer);
  const services = {
    dns: new DnsCache(),
    log,
    gate: new ConnectionGate(new ConnectionBudget(ConnectionBudget.allocate(1)), 0),
  };
  const rule: UdpRuleBase<{ readonly qosOwner: number }> =
    path === 'addon'
      ? new NativeUdpRule(spec, accounts, services, native!)
      : new UdpRule(spec, accounts, services);
  expect(await rule.bind()).toBeNull();
  open.push({ close: () => rule.unbind() });
  const read = (field: number): number => Number(counters.read(accounts.row, field));
  return { rule, read, listenPort: listenPort!, target };
}

/**
 * A target in a child process: it answers the first datagram with BURST replies, sent once
 * `blocked` exists in `dir`, and then writes `done` there and how many left it on stdout.
 */
async function burstingTarget(
  dir: string,
): Promise<{ port: number; got: Promise<unknown>; sent: Promise<number> }> {
  const script = `
const fs = require('node:fs');
const socket = require('node:dgram').createSocket('udp4');
const payload = Buffer.alloc(${DATAGRAM_BYTES}, 121);
socket.bind(0, '127.0.0.1', () => process.stdout.write('port ' + socket.address().port + '\\n'));
socket.once('message', (_m, from) => {
  process.stdout.write('got\\n');
  let waits = 0;
  const wait = () => {
    if (!fs.existsSync(${JSON.stringify(join(dir, 'blocked'))})) {
      if (++waits < 2000) setTimeout(wait, 5);
      return;
    }
    let sent = 0;
    let done = 0;
    for (let i = 0; i < ${BURST}; i++) {
      socket.send(payload, from.port, from.address, (err) => {
        if (!err) sent++;
        if (++done === ${BURST}) {
          fs.writeFileSync(${JSON.stringify(join(dir, 'done'))}, '');
          process.stdout.write('sent ' + sent + '\\n');
          socket.close();
        }
      });
    }
  };
  wait();
});`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  open.push({ close: () => child.kill() });
  let output = '';
  const lines: ((text: string) => void)[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
    for (const wake of lines.splice(0)) wake(output);
  });
  const line = async (pattern: RegExp): Promise<RegExpExecArray> => {
    for (let i = 0; i < 1000; i++) {
      const match = pattern.exec(output);
      if (match !== null) return match;
      await new Promise<string>((resolve) => lines.push(resolve));
    }
    throw new Error(`the target never wrote ${pattern}`);
  };
  const port = Number((await line(/port (\d+)\n/))[1]);
  return { port, got: line(/got\n/), sent: line(/sent (\d+)\n/).then((match) => Number(match[1])) };
}

/** Blocks this thread until the bursting target has written `done` in `dir`. */
function blockUntilBurstSent(dir: string): void {
  const script = `
const fs = require('node:fs');
fs.writeFileSync(${JSON.stringify(join(dir, 'blocked'))}, '');
const nap = new Int32Array(new SharedArrayBuffer(4));
for (let i = 0; i < 2000 && !fs.existsSync(${JSON.stringify(join(dir, 'done'))}); i++) Atomics.wait(nap, 0, 0, 5);`;
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
  expect(child.status, child.stderr).toBe(0);
  expect(existsSync(join(dir, 'done')), 'the target sent its burst').toBe(true);
}

describe.each(PATHS)('udp_receive_buffer on the %s path', (path) => {
  it('sizes the listening socket as configured', async () => {
    const { rule } = await start(path, '64KiB');
    expect(rule.grantedReceiveBuffer()).toBe(64 * 1024);
  });

  it('counts the datagrams the kernel dropped on a full receive buffer: sent minus arrived', async () => {
    const { rule, read, listenPort, target } = await start(path, '4KiB');
    const sent = udpBurst(listenPort, BURST, DATAGRAM_BYTES);
    expect(sent).toBe(BURST);
    // The rule now reads what its socket queued; the rest the kernel dropped.
    await pollUntil(
      () => {
        rule.countDrops();
        return (
          read(FIELD.PACKETS_IN) + read(FIELD.DATAGRAMS_DROPPED) + read(FIELD.RECEIVE_BUFFER_DROPS) === sent
        );
      },
      { timeoutMs: 4_000, what: 'every datagram sent to be relayed or counted as dropped' },
    );
    await pollUntil(() => target.received() === read(FIELD.PACKETS_IN), {
      timeoutMs: 4_000,
      what: 'the relayed datagrams at the target',
    });
    const drops = read(FIELD.RECEIVE_BUFFER_DROPS);
    expect(drops).toBeGreaterThan(0);
    expect(read(FIELD.DATAGRAMS_DROPPED)).toBe(0);
    expect(drops).toBe(sent - target.received());
  });

  it("counts the drops on a flow's socket to its target: replies sent minus relayed", async () => {
    const dir = tempDir('sluice-rcvbuf-');
    open.push({ close: () => removeDir(dir) });
    const target = await burstingTarget(dir);
    const { rule, read, listenPort } = await start(path, '4KiB', () => {}, target.port);
    const client = createSocket('udp4');
    client.bind(0, '127.0.0.1');
    await once(client, 'listening');
    open.push(client);
    let replies = 0;
    client.on('message', () => replies++);
    client.send('go', listenPort, '127.0.0.1');
    await target.got;
    blockUntilBurstSent(dir);
    const sent = await target.sent;
    expect(sent).toBe(BURST);
    await pollUntil(
      () => {
        rule.countDrops();
        return read(FIELD.PACKETS_OUT) + read(FIELD.RECEIVE_BUFFER_DROPS) === sent;
      },
      { timeoutMs: 4_000, what: 'every reply relayed or counted as dropped' },
    );
    await pollUntil(() => replies === read(FIELD.PACKETS_OUT), {
      timeoutMs: 4_000,
      what: 'the relayed replies at the client',
    });
    expect(read(FIELD.RECEIVE_BUFFER_DROPS)).toBeGreaterThan(0);
    expect(read(FIELD.RECEIVE_BUFFER_DROPS)).toBe(sent - replies);
  });

  it('reads the drops not yet counted as the rule unbinds', async () => {
    const { rule, read, listenPort, target } = await start(path, '4KiB');
    const sent = udpBurst(listenPort, BURST, DATAGRAM_BYTES);
    // The few datagrams a 4 KiB buffer queues are read in one batch.
    await pollUntil(() => target.received() > 0 && target.received() === read(FIELD.PACKETS_IN), {
      timeoutMs: 4_000,
      what: 'the queued datagrams at the target',
    });
    rule.unbind();
    expect(read(FIELD.RECEIVE_BUFFER_DROPS)).toBe(sent - target.received());
    expect(read(FIELD.RECEIVE_BUFFER_DROPS)).toBeGreaterThan(0);
  });
});

describe('udp_receive_buffer over what the kernel grants', () => {
  it('logs once, naming the rule and both sizes, when node:dgram is capped at net.core.rmem_max', async () => {
    const lines: { msg: string; fields: Record<string, unknown> | undefined }[] = [];
    const { readFileSync } = await import('node:fs');
    const rmemMax = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
    // Twice rmem_max (within 1GiB): node:dgram has no SO_RCVBUFFORCE, so the kernel gives rmem_max.
    const asked = Math.min(2 * rmemMax, 1024 ** 3);
    await start('node:dgram', `${asked}B`, (_level, msg, fields) => lines.push({ msg, fields }));
    expect(lines).toEqual([
      {
        msg: 'the kernel granted a smaller UDP receive buffer than udp_receive_buffer asks for',
        fields: expect.objectContaining({ rule: 'burst', asked_bytes: asked, granted_bytes: rmemMax }),
      },
    ]);
  });
});
