// push -> apply -> ack against a real ShardSupervisor (2 shards) on loopback ports.

import { once } from 'node:events';
import net from 'node:net';
import { ShardSupervisor } from '@sluice/core';
import type { RuleResult } from '@sluice/protocol';
import { freePort, freePortBlock, tcpRule } from '@sluice/test-kit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PushMessage } from './control-client.ts';
import { startEchoServer } from './edge-test-support.fixture.ts';
import { PushedRuleSet } from './pushed-rule-set.ts';

let supervisor: ShardSupervisor;
const closers: (() => Promise<void>)[] = [];
let pushId = 1;

beforeAll(async () => {
  supervisor = await ShardSupervisor.start({ shards: 2, drainTimeoutMs: 500, log: () => {} });
});
afterAll(async () => {
  await supervisor.stop();
});
afterEach(async () => {
  // Each test starts from no rules.
  await supervisor.apply([]);
  while (closers.length > 0) await closers.pop()!();
});

async function listen(server: net.Server): Promise<number> {
  server.listen({ host: '127.0.0.1', port: 0 });
  await once(server, 'listening');
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return (server.address() as net.AddressInfo).port;
}

async function echoServer(): Promise<number> {
  const echo = await startEchoServer();
  closers.push(() => echo.close());
  return echo.port;
}

function roundTrip(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let got = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      got += chunk;
      if (got.length >= text.length) {
        socket.end();
        resolve(got);
      }
    });
    socket.on('error', reject);
    socket.write(text);
  });
}

function push(upsert: PushMessage['upsert'], extra: Partial<PushMessage> = {}): PushMessage {
  return { type: 'push', pushId: pushId++, full: false, upsert, remove: [], ...extra };
}

function byId(results: RuleResult[]): Record<string, RuleResult> {
  return Object.fromEntries(results.map((r) => [r.ruleId, r]));
}

describe('PushedRuleSet: push -> apply -> results', () => {
  it('a valid rule becomes active and carries traffic; remove gives removed and stops it', async () => {
    const rules = new PushedRuleSet(supervisor);
    const target = await echoServer();
    const listenPort = await freePort();
    const { results } = await rules.push(push([tcpRule('r1', 'web', listenPort, target, { revision: 3 })]));
    expect(results).toEqual([{ ruleId: 'r1', revision: 3, state: 'active' }]);
    expect(await roundTrip(listenPort, 'hello through sluice')).toBe('hello through sluice');
    expect(rules.current()).toEqual([{ ruleId: 'r1', revision: 3, state: 'active' }]);
    expect(rules.idsByName()).toEqual(new Map([['web', 'r1']]));

    const removed = await rules.push(push([], { remove: ['r1', 'never-had'] }));
    expect(removed.results).toEqual([
      { ruleId: 'r1', revision: 3, state: 'removed' },
      { ruleId: 'never-had', revision: 0, state: 'removed' },
    ]);
    expect(rules.current()).toEqual([]);
    await expect(roundTrip(listenPort, 'x')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('an invalid rule is failed rule_invalid with the schema message, and the others still apply', async () => {
    const rules = new PushedRuleSet(supervisor);
    const target = await echoServer();
    const [good, bad] = [await freePort(), await freePort()];
    const { results } = await rules.push(
      push([
        tcpRule('ok', 'ok', good, target),
        tcpRule('bad', 'bad', bad, target, { rule: { listen: '127.0.0.1:70000', balanse: 'x' } }),
      ]),
    );
    const got = byId(results);
    expect(got.ok).toEqual({ ruleId: 'ok', revision: 1, state: 'active' });
    expect(got.bad).toMatchObject({ ruleId: 'bad', state: 'failed', code: 'rule_invalid' });
    expect(got.bad!.message).toContain('listen: port 70000');
    expect(got.bad!.message).toContain('unknown key "balanse"; did you mean "balance"?');
    expect(rules.current().map((r) => r.ruleId)).toEqual(['ok']);
  });

  it('a port another socket holds gives failed port_in_use; the rule binds once it is free', async () => {
    const rules = new PushedRuleSet(supervisor);
    const target = await echoServer();
    const holder = net.createServer();
    const held = await listen(holder);
    const { results } = await rules.push(push([tcpRule('r1', 'held', held, target)]));
    expect(results).toEqual([
      expect.objectContaining({
        ruleId: 'r1',
        state: 'failed',
        code: 'port_in_use',
        message: expect.stringContaining(`127.0.0.1:${held}`),
      }),
    ]);
    // Not kept: the edge runs only what it acked active.
    expect(rules.current()).toEqual([]);
    expect(supervisor.snapshot().filter((r) => r.name === 'held')).toEqual([]);
    await new Promise((resolve) => holder.close(resolve));
    // The server pushes everything again on reconnect: the same rule is retried.
    const again = await rules.push(push([tcpRule('r1', 'held', held, target)], { full: true }));
    expect(again.results).toEqual([{ ruleId: 'r1', revision: 1, state: 'active' }]);
    expect(await roundTrip(held, 'now')).toBe('now');
  });

  it('rules of one push that clash: a taken name is name_taken, an overlapping listen port_in_use', async () => {
    const rules = new PushedRuleSet(supervisor);
    const target = await echoServer();
    const [a, b] = [await freePort(), await freePort()];
    const first = await rules.push(push([tcpRule('r1', 'web', a, target)]));
    expect(first.results[0]!.state).toBe('active');
    const { results } = await rules.push(
      push([
        tcpRule('r2', 'web', b, target),
        tcpRule('r3', 'other', a, target),
        tcpRule('r4', 'udp-same-port', a, target, { rule: { protocol: 'udp' } }),
      ]),
    );
    const got = byId(results);
    expect(got.r2).toMatchObject({ state: 'failed', code: 'name_taken' });
    expect(got.r2!.message).toContain('r1');
    expect(got.r3).toMatchObject({ state: 'failed', code: 'port_in_use' });
    expect(got.r3!.message).toContain('"web" (r1)');
    // Another protocol on the same port does not clash.
    expect(got.r4).toMatchObject({ state: 'active' });
    expect(await roundTrip(a, 'still web')).toBe('still web');
  });

  it('a full push replaces the set: left-out rules are removed, changed ones updated', async () => {
    const rules = new PushedRuleSet(supervisor);
    const [t1, t2] = [await echoServer(), await echoServer()];
    const [a, b, c] = [await freePort(), await freePort(), await freePort()];
    await rules.push(push([tcpRule('keep', 'keep', a, t1), tcpRule('drop', 'drop', b, t1)]));
    const { results } = await rules.push(
      push([tcpRule('keep', 'keep', a, t2, { revision: 2 }), tcpRule('new', 'new', c, t1)], { full: true }),
    );
    expect(byId(results)).toEqual({
      keep: { ruleId: 'keep', revision: 2, state: 'active' },
      new: { ruleId: 'new', revision: 1, state: 'active' },
      drop: { ruleId: 'drop', revision: 1, state: 'removed' },
    });
    expect(
      rules
        .current()
        .map((r) => `${r.ruleId}@${r.revision}`)
        .sort(),
    ).toEqual(['keep@2', 'new@1']);
    expect(await roundTrip(a, 'k')).toBe('k');
    await expect(roundTrip(b, 'x')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('a new revision that fails leaves the previous revision running', async () => {
    const rules = new PushedRuleSet(supervisor);
    const target = await echoServer();
    const a = await freePort();
    const holder = net.createServer();
    const held = await listen(holder);
    await rules.push(push([tcpRule('r1', 'web', a, target, { revision: 1 })]));
    // Invalid: never applied.
    const invalid = await rules.push(
      push([tcpRule('r1', 'web', a, target, { revision: 2, rule: { targets: [] } })]),
    );
    expect(invalid.results[0]).toMatchObject({ revision: 2, state: 'failed', code: 'rule_invalid' });
    // Valid but its new listen is taken: the old listener was retired, then put back.
    const taken = await rules.push(push([tcpRule('r1', 'web', held, target, { revision: 3 })]));
    expect(taken.results[0]).toMatchObject({ revision: 3, state: 'failed', code: 'port_in_use' });
    expect(rules.current()).toEqual([{ ruleId: 'r1', revision: 1, state: 'active' }]);
    expect(supervisor.snapshot().filter((r) => r.state === 'failed')).toEqual([]);
    expect(await roundTrip(a, 'old revision')).toBe('old revision');
    // What the rules file saves of these pushes: the revision that runs, as the server pushed it.
    expect(rules.appliedChange(['r1'])).toEqual({
      upsert: [tcpRule('r1', 'web', a, target, { revision: 1 })],
      remove: [],
    });
  });

  it('appliedChange: the named rules that run, as pushed; the rest (gone or never up) as removed', async () => {
    const rules = new PushedRuleSet(supervisor);
    const target = await echoServer();
    const [a, b] = [await freePort(), await freePort()];
    const holder = net.createServer();
    const held = await listen(holder);
    const owners = { ann: { bandwidth: '10Mbit' } };
    const up = tcpRule('up', 'up', a, target, { owner: 'ann' });
    await rules.push(
      push([up, tcpRule('gone', 'gone', b, target), tcpRule('down', 'down', held, target)], { owners }),
    );
    await rules.push(push([], { remove: ['gone'] }));
    expect(rules.appliedChange(['up', 'gone', 'down', 'never'])).toEqual({
      upsert: [up],
      remove: ['gone', 'down', 'never'],
    });
    expect(rules.appliedChange([])).toEqual({ upsert: [], remove: [] });
    expect(rules.appliedOwners()).toEqual(owners);
    expect(rules.applied()).toEqual({ upsert: [up], owners });
    await new Promise((resolve) => holder.close(resolve));
  });

  it("owner caps come with the push; invalid owner limits fail that owner's rules", async () => {
    const rules = new PushedRuleSet(supervisor);
    const target = await echoServer();
    const [a, b] = [await freePort(), await freePort()];
    const { results } = await rules.push(
      push(
        [
          tcpRule('r1', 'alice-web', a, target, { owner: 'alice' }),
          tcpRule('r2', 'bob-web', b, target, { owner: 'bob' }),
        ],
        {
          owners: { alice: { max_connections: 1 }, bob: { bandwidth: 'fast' } },
        },
      ),
    );
    expect(byId(results).r1).toMatchObject({ state: 'active' });
    expect(byId(results).r2).toMatchObject({ state: 'failed', code: 'rule_invalid' });
    expect(byId(results).r2!.message).toContain('owners.bob.limits.bandwidth');
    expect(supervisor.snapshot().find((r) => r.name === 'alice-web')?.owner).toBe('alice');
    // alice's cap of one connection holds: a second connection is closed at accept.
    const first = net.connect({ host: '127.0.0.1', port: a });
    first.write('one');
    first.on('error', () => {});
    await once(first, 'data');
    const second = net.connect({ host: '127.0.0.1', port: a });
    second.on('error', () => {});
    second.write('two');
    second.resume();
    // Closed (by a reset) without an echo.
    let echoed = false;
    second.on('data', () => {
      echoed = true;
    });
    await new Promise((resolve) => second.once('close', resolve));
    expect(echoed).toBe(false);
    expect(supervisor.ownerConnections('alice')).toBe(1);
    first.destroy();
  });
});

describe('PushedRuleSet: a push touches only the rules it names', () => {
  /** An open connection through `port`: answers each write with its echo. */
  async function openConnection(port: number) {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setEncoding('utf8');
    closers.push(async () => void socket.destroy());
    await once(socket, 'connect');
    const echo = async (text: string): Promise<string> => {
      socket.write(text);
      let got = '';
      while (got.length < text.length) got += String((await once(socket, 'data'))[0]);
      return got;
    };
    return { socket, echo };
  }

  it('rules a push does not name are not compared, rebound or messaged; their connections go on', async () => {
    const rules = new PushedRuleSet(supervisor);
    const target = await echoServer();
    const [a, b, c] = [await freePort(), await freePort(), await freePort()];
    await rules.push(push([tcpRule('ra', 'a', a, target)]));
    const slotOfA = supervisor.snapshot().find((r) => r.name === 'a')!.slot;
    const held = await openConnection(a);
    expect(await held.echo('before')).toBe('before');

    const added = await rules.push(push([tcpRule('rb', 'b', b, target)]));
    expect(added.apply).toEqual({ added: ['b'], removed: [], changed: [], unchanged: [], failed: [] });
    // A full push that repeats a and b as they run applies only what is new in it.
    const full = await rules.push(
      push([tcpRule('ra', 'a', a, target), tcpRule('rb', 'b', b, target), tcpRule('rc', 'c', c, target)], {
        full: true,
      }),
    );
    expect(full.apply).toEqual({ added: ['c'], removed: [], changed: [], unchanged: [], failed: [] });
    expect(full.results.map((r) => `${r.ruleId} ${r.state}`)).toEqual([
      'ra active',
      'rb active',
      'rc active',
    ]);

    expect(held.socket.destroyed).toBe(false);
    expect(await held.echo('after')).toBe('after');
    expect(supervisor.snapshot().find((r) => r.name === 'a')).toMatchObject({
      state: 'active',
      slot: slotOfA,
    });
  });

  it('a held table pushed again at a new revision is acked at it unbound; a new owner is applied', async () => {
    const rules = new PushedRuleSet(supervisor);
    const target = await echoServer();
    const a = await freePort();
    await rules.push(push([tcpRule('ra', 'a', a, target)]));
    const again = await rules.push(push([tcpRule('ra', 'a', a, target, { revision: 2 })], { full: true }));
    expect(again.results).toEqual([{ ruleId: 'ra', revision: 2, state: 'active' }]);
    expect(again.apply).toEqual({ added: [], removed: [], changed: [], unchanged: [], failed: [] });
    expect(rules.current()).toEqual([{ ruleId: 'ra', revision: 2, state: 'active' }]);
    // The same table under another owner is another spec: it is applied, not taken as held.
    const moved = await rules.push(push([tcpRule('ra', 'a', a, target, { revision: 3, owner: 'bob' })]));
    expect(moved.results).toEqual([{ ruleId: 'ra', revision: 3, state: 'active' }]);
    expect(moved.apply?.changed).toEqual(['a']);
    expect(rules.ownerOf('ra')).toBe('bob');
    expect(await roundTrip(a, 'still')).toBe('still');
  });

  it('clashes with held rules are caught through the indexes, among many held rules', async () => {
    const rules = new PushedRuleSet(supervisor);
    const target = await echoServer();
    const lo = await freePortBlock(160);
    // A wide range (kept off the per-port index) and fifty single ports, in one push.
    const wide = tcpRule('w', 'wide', lo, target, { rule: { listen: `127.0.0.1:${lo}-${lo + 99}` } });
    const narrow = Array.from({ length: 50 }, (_, i) => tcpRule(`n${i}`, `n${i}`, lo + 100 + i, target));
    const first = await rules.push(push([wide, ...narrow]));
    expect(first.results.filter((r) => r.state !== 'active')).toEqual([]);

    const { results } = await rules.push(
      push([
        tcpRule('x1', 'x1', lo + 120, target),
        tcpRule('x2', 'x2', lo + 50, target),
        tcpRule('x3', 'x3', lo + 140, target, { rule: { listen: `127.0.0.1:${lo + 145}-${lo + 159}` } }),
        tcpRule('x4', 'x4', lo + 130, target, { rule: { listen: `0.0.0.0:${lo + 130}` } }),
        tcpRule('x5', 'n7', lo + 155, target),
      ]),
    );
    const got = byId(results);
    expect(got.x1).toMatchObject({
      state: 'failed',
      code: 'port_in_use',
      message: expect.stringContaining('(n20)'),
    });
    expect(got.x2).toMatchObject({
      state: 'failed',
      code: 'port_in_use',
      message: expect.stringContaining('(w)'),
    });
    expect(got.x3).toMatchObject({
      state: 'failed',
      code: 'port_in_use',
      message: expect.stringContaining('(n45)'),
    });
    expect(got.x4).toMatchObject({
      state: 'failed',
      code: 'port_in_use',
      message: expect.stringContaining('(n30)'),
    });
    expect(got.x5).toMatchObject({
      state: 'failed',
      code: 'name_taken',
      message: expect.stringContaining('n7'),
    });
    expect(rules.size).toBe(51);
    expect(await roundTrip(lo + 120, 'n20 still')).toBe('n20 still');

    // A rule leaving its port and a newcomer taking it, in one push: no clash.
    const moved = await rules.push(
      push([tcpRule('n0', 'n0', lo + 150, target, { revision: 2 }), tcpRule('y', 'y', lo + 100, target)]),
    );
    expect(byId(moved.results)).toEqual({
      n0: { ruleId: 'n0', revision: 2, state: 'active' },
      y: { ruleId: 'y', revision: 1, state: 'active' },
    });
    expect(await roundTrip(lo + 150, 'n0 moved')).toBe('n0 moved');
    expect(await roundTrip(lo + 100, 'y took it')).toBe('y took it');
  });
});
