// A UDP rule on real loopback sockets, outside a worker: the targets' order and health that
// TCP uses, applied to flows. An ICMP port unreachable (a closed port) fails a target.

import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { parseStandaloneConfig, type RuleSpec } from '@sluice/config';
import { Counters, FIELD } from '@sluice/counters';
import { NO_LIMITS, QosTable } from '@sluice/qos';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionBudget } from './connection-budget.ts';
import { ConnectionGate } from './connection-gate.ts';
import { DnsCache } from './dns-cache.ts';
import { UdpRule } from './udp-rule.ts';

const open: { close(): void }[] = [];
afterEach(() => {
  for (const thing of open.splice(0)) thing.close();
});

async function bound(): Promise<Socket> {
  const socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  open.push(socket);
  return socket;
}

/** A port nothing listens on: the kernel answers datagrams to it with port unreachable. */
async function closedPort(): Promise<number> {
  const socket = createSocket('udp4');
  socket.bind(0, '127.0.0.1');
  await once(socket, 'listening');
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** Answers every datagram with `${tag}:` and the datagram. */
async function echo(tag: string): Promise<{ port: number; seen: string[] }> {
  const socket = await bound();
  const seen: string[] = [];
  socket.on('message', (message, from) => {
    seen.push(message.toString());
    socket.send(Buffer.concat([Buffer.from(`${tag}:`), message]), from.port, from.address);
  });
  return { port: socket.address().port, seen };
}

function udpRule(listenPort: number, targets: number[], balance = 'failover'): RuleSpec {
  const toml = `
[[rules]]
name = "dns"
protocol = "udp"
listen = "127.0.0.1:${listenPort}"
targets = [${targets.map((port) => `"127.0.0.1:${port}"`).join(', ')}]
balance = "${balance}"
`;
  return parseStandaloneConfig(toml, 'udp-rule.test.toml').rules[0]!;
}

async function start(targets: number[], balance?: string) {
  const listenPort = await closedPort();
  const counters = new Counters(Counters.allocate(1, 1));
  const qos = new QosTable(QosTable.allocate(1, 1));
  qos.configure(qos.rule(0), NO_LIMITS);
  const accounts = { counters, row: counters.row(0, 0), qos, qosRule: qos.rule(0), qosOwner: qos.owner(0) };
  const rule = new UdpRule(udpRule(listenPort, targets, balance), accounts, {
    dns: new DnsCache(),
    log: () => {},
    gate: new ConnectionGate(new ConnectionBudget(ConnectionBudget.allocate(1)), 0),
  });
  expect(await rule.bind()).toBeNull();
  open.push({ close: () => rule.unbind() });
  const client = await bound();
  const replies: string[] = [];
  const waiters: (() => void)[] = [];
  client.on('message', (message) => {
    replies.push(message.toString());
    for (const wake of waiters.splice(0)) wake();
  });
  const ask = async (text: string): Promise<string> => {
    const before = replies.length;
    client.send(text, listenPort, '127.0.0.1');
    while (replies.length === before) await new Promise<void>((resolve) => waiters.push(resolve));
    return replies[before]!;
  };
  return { rule, counters, row: accounts.row, ask, client, listenPort };
}

describe('UdpRule targets', () => {
  it('moves a flow whose first target answers port unreachable to the next, sending its datagram again', async () => {
    const dead = await closedPort();
    const live = await echo('b');
    const { counters, row, ask } = await start([dead, live.port]);
    // The one datagram reaches the second target although the first refused it.
    expect(await ask('q1')).toBe('b:q1');
    expect(live.seen).toEqual(['q1']);
    expect(counters.read(row, FIELD.FAILOVERS)).toBe(1n);
    expect(counters.read(row, FIELD.CONNECT_ERRORS)).toBe(1n); // reason "refused"
  });

  it('puts a target that keeps refusing after the healthy ones, as TCP does', async () => {
    const dead = await closedPort();
    const live = await echo('b');
    const { counters, row, ask, listenPort } = await start([dead, live.port]);
    // Three flows (three client sockets) fail on the first target: it goes down.
    for (let i = 0; i < 3; i++) {
      const other = await bound();
      const got = once(other, 'message') as Promise<[Buffer]>;
      other.send(`flow${i}`, listenPort, '127.0.0.1');
      expect((await got)[0].toString()).toBe(`b:flow${i}`);
    }
    expect(counters.read(row, FIELD.TARGETS_DOWN)).toBe(1n);
    const failovers = counters.read(row, FIELD.FAILOVERS);
    // A new flow now starts at the second target: no refusal, no failover.
    expect(await ask('after')).toBe('b:after');
    expect(counters.read(row, FIELD.FAILOVERS)).toBe(failovers);
  });

  it('rotates new flows over the targets with round-robin', async () => {
    const a = await echo('a');
    const b = await echo('b');
    const { listenPort } = await start([a.port, b.port], 'round-robin');
    const answers: string[] = [];
    for (let i = 0; i < 4; i++) {
      const client = await bound();
      const got = once(client, 'message') as Promise<[Buffer]>;
      client.send('x', listenPort, '127.0.0.1');
      answers.push((await got)[0].toString());
    }
    expect(answers).toEqual(['a:x', 'b:x', 'a:x', 'b:x']);
  });

  it('ends a flow whose every target refuses', async () => {
    const { counters, row, client, listenPort } = await start([await closedPort(), await closedPort()]);
    client.send('nobody', listenPort, '127.0.0.1');
    while (counters.read(row, FIELD.CONNECT_ERRORS) < 2n || counters.read(row, FIELD.ACTIVE_FLOWS) !== 0n) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(counters.read(row, FIELD.TOTAL)).toBe(1n);
  });
});
