// The reconciler against shards that answer as the test says (the shard side is covered by the
// e2e tests): Active once every shard bound a rule, Failed(reason) when one could not, and then
// released everywhere; removal drains; a restarted shard gets the active rules again.

import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';
import { parseStandaloneConfig, type RuleSpec } from '@sluice/config';
import { Counters, FIELD } from '@sluice/counters';
import { QosTable } from '@sluice/qos';
import { freePort, freePorts } from '@sluice/test-kit';
import { describe, expect, it } from 'vitest';
import { CORE_ERRORS, type CoreErrorData } from './errors.ts';
import type { LogFn } from './log-fn.ts';
import { RuleReconciler, type RuleShards } from './rule-reconciler.ts';
import type { ShardBinding } from './shard-messages.ts';
import type { ShardRequest } from './shard-pool.ts';

/** Rules on distinct free ports (two bind(0) probes, each let go, can both get the same one). */
async function rules(...names: string[]): Promise<RuleSpec[]> {
  const ports = await freePorts(names.length);
  let toml = '';
  for (const [i, name] of names.entries()) {
    toml += `[[rules]]\nname = "${name}"\nlisten = "127.0.0.1:${ports[i]}"\ntargets = ["127.0.0.1:9"]\n`;
  }
  return [...parseStandaloneConfig(toml, 'rule-reconciler.test.toml').rules];
}

/** Two shards that record what they are asked; `refuse` names rules shard 1 cannot bind. */
function fakeShards(refuse: Set<string> = new Set()) {
  const asked: { shard: number; request: ShardRequest }[] = [];
  const answer = (shard: number, request: ShardRequest): CoreErrorData | null => {
    asked.push({ shard, request });
    return null;
  };
  const bind = (shard: number, bindings: readonly ShardBinding[]) => {
    asked.push({ shard, request: { type: 'bind', bindings } });
    return bindings.map(({ rule }) =>
      shard === 1 && refuse.has(rule.name) ? CORE_ERRORS.data('port_in_use', { listen: 'somewhere' }) : null,
    );
  };
  const shards: RuleShards = {
    running: 2,
    isRunning: () => true,
    broadcast: async (request) => [answer(0, request), answer(1, request)],
    bindEverywhere: async (bindings) => [bind(0, bindings), bind(1, bindings)],
    bindOn: async (shard, bindings) => bind(shard, bindings),
  };
  return { shards, asked };
}

function reconciler(shards: RuleShards, log: LogFn = () => {}) {
  const counters = new Counters(Counters.allocate(2, 8));
  const qos = new QosTable(QosTable.allocate(8, 4, 2));
  return {
    counters,
    reconciler: new RuleReconciler(shards, counters, qos, { log, drainTimeoutMs: 1_000 }),
  };
}

describe('RuleReconciler', () => {
  it('makes a rule Active once every shard bound it', async () => {
    const { shards, asked } = fakeShards();
    const { reconciler: r } = reconciler(shards);
    const result = await r.apply(await rules('web'));
    expect(result).toMatchObject({ added: ['web'], failed: [] });
    expect(r.snapshot()).toMatchObject([{ name: 'web', state: 'active', slot: 0, error: null }]);
    expect(asked.map((a) => [a.shard, a.request.type])).toEqual([
      [0, 'bind'],
      [1, 'bind'],
    ]);
  });

  it('fails a rule one shard could not bind, with that reason, and releases it everywhere', async () => {
    const { shards, asked } = fakeShards(new Set(['db']));
    const { reconciler: r } = reconciler(shards);
    const result = await r.apply(await rules('web', 'db'));
    expect(result.failed).toEqual([{ name: 'db', error: expect.objectContaining({ code: 'port_in_use' }) }]);
    expect(r.snapshot().map((rule) => [rule.name, rule.state, rule.slot])).toEqual([
      ['web', 'active', 0],
      ['db', 'failed', null],
    ]);
    const released = asked.filter((a) => a.request.type === 'release');
    expect(released.map((a) => a.shard)).toEqual([0, 1]);
    expect(released[0]!.request).toEqual({ type: 'release', slot: 1 });
    // Applying again retries it (and here it fails again, the same way).
    expect((await r.apply(await rules('web', 'db'))).failed).toHaveLength(1);
  });

  it('drains a removed rule: unbind now, release once its connections are gone', async () => {
    const { shards, asked } = fakeShards();
    const { reconciler: r, counters } = reconciler(shards);
    const [web] = await rules('web');
    await r.apply([web!]);
    counters.add(counters.row(0, 1), FIELD.ACTIVE, 1);
    expect((await r.apply([])).removed).toEqual(['web']);
    expect(r.snapshot()).toMatchObject([{ name: 'web', state: 'draining' }]);
    expect(asked.filter((a) => a.request.type === 'release')).toEqual([]);
    counters.add(counters.row(0, 1), FIELD.ACTIVE, -1);
    await r.retireAll();
    expect(r.snapshot()).toEqual([]);
    expect(asked.filter((a) => a.request.type === 'release').map((a) => a.shard)).toEqual([0, 1]);
  });

  it('retireAll(drained) runs drained once every connection is gone, before any release', async () => {
    const { shards, asked } = fakeShards();
    const { reconciler: r, counters } = reconciler(shards);
    await r.apply(await rules('web', 'api'));
    counters.add(counters.row(0, 0), FIELD.ACTIVE, 1);
    const releasesAtDrained: number[] = [];
    const retired = r.retireAll(() => {
      releasesAtDrained.push(asked.filter((a) => a.request.type === 'release').length);
    });
    // `api` has drained; `web` still has a connection: nothing is released, drained waits.
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(releasesAtDrained).toEqual([]);
    counters.add(counters.row(0, 0), FIELD.ACTIVE, -1);
    await retired;
    expect(releasesAtDrained).toEqual([0]);
    expect(asked.filter((a) => a.request.type === 'release')).toHaveLength(4);
  });

  it('probes a new rule for a foreign holder of its port, and not while probePorts is off', async () => {
    const holder = createServer().listen(0, '127.0.0.1');
    await once(holder, 'listening');
    const { port } = holder.address() as AddressInfo;
    try {
      const toml = `[[rules]]\nname = "held"\nlisten = "127.0.0.1:${port}"\ntargets = ["127.0.0.1:9"]\n`;
      const specs = parseStandaloneConfig(toml, 'rule-reconciler.test.toml').rules;
      const probing = reconciler(fakeShards().shards).reconciler;
      expect((await probing.apply(specs)).failed).toEqual([
        { name: 'held', error: expect.objectContaining({ code: 'port_in_use' }) },
      ]);
      // A hand-over's successor: its predecessor holds the port, and the shards bind beside it.
      const successor = reconciler(fakeShards().shards).reconciler;
      successor.probePorts = false;
      expect(await successor.apply(specs)).toMatchObject({ added: ['held'], failed: [] });
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it('binds the active rules again on a restarted shard, and only there', async () => {
    const { shards, asked } = fakeShards(new Set(['db']));
    const { reconciler: r } = reconciler(shards);
    await r.apply(await rules('web', 'db'));
    asked.length = 0;
    await r.rebind(0);
    expect(asked).toEqual([
      { shard: 0, request: { type: 'bind', bindings: [expect.objectContaining({ slot: 0 })] } },
    ]);
  });

  it('logs one `rules active` line per change at info, and each rule at debug only', async () => {
    const lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
    const { shards } = fakeShards(new Set(['db']));
    const { reconciler: r } = reconciler(shards, (level, msg, fields = {}) =>
      lines.push({ level, msg, fields }),
    );
    await r.apply(await rules('web', 'db', 'cache'));
    const info = lines.filter((line) => line.level !== 'debug');
    expect(info.map((line) => line.msg)).toEqual(['rule failed', 'rules active']);
    expect(info[1]!.fields).toEqual({ rules: 2, failed: 1, shards: 2 });
    const debug = lines.filter((line) => line.level === 'debug');
    expect(debug.map((line) => [line.msg, line.fields.rule])).toEqual([
      ['rule active', 'web'],
      ['rule active', 'cache'],
    ]);
    // A change that binds nothing says nothing.
    lines.length = 0;
    await r.change([], ['cache']);
    expect(lines.filter((line) => line.msg === 'rules active')).toEqual([]);
  });

  it('change() binds new rules in one message per shard and messages nothing about other rules', async () => {
    const { shards, asked } = fakeShards();
    const { reconciler: r } = reconciler(shards);
    const [web, db, cache, queue] = await rules('web', 'db', 'cache', 'queue');
    await r.apply([web!]);
    asked.length = 0;
    const result = await r.change([db!, cache!, queue!], []);
    expect(result).toEqual({
      added: ['db', 'cache', 'queue'],
      removed: [],
      changed: [],
      unchanged: [],
      failed: [],
    });
    expect(
      asked.map((a) => [a.shard, a.request.type, a.request.type === 'bind' ? a.request.bindings.length : 0]),
    ).toEqual([
      [0, 'bind', 3],
      [1, 'bind', 3],
    ]);
    asked.length = 0;
    expect((await r.change([], ['db'])).removed).toEqual(['db']);
    // Only db's slot is named (unbind, then release once drained); web, on slot 0, is not.
    expect(asked.map((a) => a.request).slice(0, 2)).toEqual([
      { type: 'unbind', slot: 1 },
      { type: 'unbind', slot: 1 },
    ]);
    expect(asked.filter((a) => !('slot' in a.request) || a.request.slot !== 1)).toEqual([]);
    expect(r.stateOf('web')).toMatchObject({ state: 'active' });
    expect(r.stateOf('db')).toBeUndefined();
  });
});

describe('RuleReconciler: a UDP rule', () => {
  it('binds new sockets when udp_receive_buffer changes, and only updates for another key', async () => {
    const { shards, asked } = fakeShards();
    const { reconciler: r } = reconciler(shards);
    const port = await freePort();
    const udp = (extra: string): RuleSpec =>
      parseStandaloneConfig(
        `[[rules]]\nname = "dns"\nprotocol = "udp"\nlisten = "127.0.0.1:${port}"\ntargets = ["127.0.0.1:53"]\n${extra}\n`,
        'rule-reconciler.test.toml',
      ).rules[0]!;
    await r.apply([udp('')]);
    asked.length = 0;
    await r.apply([udp('max_flows = 10')]);
    expect(asked.map((a) => a.request.type)).toEqual(['update', 'update']);
    asked.length = 0;
    await r.apply([udp('max_flows = 10\nudp_receive_buffer = "64KiB"')]);
    // Sockets take their receive buffer as they are made: new ones, and the old slot drains.
    expect(asked.filter((a) => a.request.type === 'bind')).toHaveLength(2);
    expect(asked.some((a) => a.request.type === 'update')).toBe(false);
  });
});
