// One shard: an event loop that runs every rule's listener and relays. It does what the
// supervisor asks over its port and answers each request once; it never decides rule state.

import type { MessagePort } from 'node:worker_threads';
import { formatListen } from '@sluice/config/address';
import { Counters } from '@sluice/counters';
import { QosTable } from '@sluice/qos';
import type { NativeAccept, SpliceStatus } from '@sluice/splice';
import { ConnectionBudget } from './connection-budget.ts';
import { ConnectionGate } from './connection-gate.ts';
import { DnsCache } from './dns-cache.ts';
import { CORE_ERRORS, type CoreErrorData } from './errors.ts';
import type { RelayPath } from './relay-path.ts';
import type { RelaySelection } from './relay-select.ts';
import type { FromShard, ShardBinding, ShardInit, ToShard } from './shard-messages.ts';
import type { ShardRule, ShardServices } from './shard-rule.ts';
import { TcpRule } from './tcp-rule.ts';
import { createUdpRule } from './udp-rule-select.ts';

/** How often idle connections of an owner whose quota is spent are looked for. */
const QUOTA_SWEEP_MS = 250;

export class Shard {
  readonly index: number;
  private readonly port: MessagePort;
  private readonly counters: Counters;
  private readonly qos: QosTable;
  private readonly relayPath: RelayPath;
  private readonly splice: SpliceStatus;
  private readonly nativeAccept: NativeAccept | null;
  private readonly testHooks: boolean;
  private readonly rules = new Map<number, ShardRule>();
  private readonly services: ShardServices;

  constructor(init: ShardInit, port: MessagePort, relay: RelaySelection) {
    this.index = init.shard;
    this.port = port;
    this.counters = new Counters(init.counters);
    this.qos = new QosTable(init.qos, init.shard);
    this.relayPath = relay.path;
    this.splice = relay.splice;
    this.nativeAccept = relay.accept;
    this.testHooks = init.testHooks;
    const budget = new ConnectionBudget(init.budget);
    // The addon's listeners take their places in the same words as node:net's connections.
    this.nativeAccept?.budget(budget.words, budget.offsets(init.shard));
    this.services = {
      gate: new ConnectionGate(budget, init.shard),
      // SLUICE_DNS_SERVERS (comma-separated ip or ip:port) points target lookups at other
      // resolvers than the system's; the tests use it for a resolver of their own.
      dns: new DnsCache(dnsServers()),
      log: (level, msg, fields = {}) => this.send({ type: 'log', level, msg, fields }),
    };
  }

  start(): void {
    // A shard that dies (a bug, or the crash test hook) takes its connections with it; their
    // peers must see a reset, not a clean end that looks like a complete stream. 'exit' runs
    // synchronously before the thread's handles are torn down.
    process.once('exit', () => {
      for (const rule of this.rules.values()) rule.closeConnections();
    });
    // Connections that move bytes meet a spent quota in their relay; idle ones are cut here.
    setInterval(() => {
      for (const rule of this.rules.values()) rule.cutOverQuota();
    }, QUOTA_SWEEP_MS).unref();
    this.port.on('message', (message: ToShard) => {
      this.handle(message).catch((err: unknown) => {
        this.send({ type: 'log', level: 'error', msg: 'shard request failed', fields: { err: String(err) } });
      });
    });
    this.send({ type: 'ready', splice: this.splice });
  }

  private async handle(message: ToShard): Promise<void> {
    switch (message.type) {
      case 'bind': {
        const errors: (CoreErrorData | null)[] = [];
        for (const binding of message.bindings) errors.push(await this.bind(binding));
        this.send({ type: 'bound', id: message.id, errors });
        return;
      }
      case 'update': {
        const rule = this.rules.get(message.slot);
        rule?.update(message.rule, this.qos.owner(message.ownerSlot));
        const notBound = { listen: formatListen(message.rule.listen), detail: 'not bound on this shard' };
        this.reply(message.id, rule ? null : CORE_ERRORS.data('bind_failed', notBound));
        return;
      }
      case 'unbind': {
        this.rules.get(message.slot)?.unbind();
        this.reply(message.id, null);
        return;
      }
      case 'release': {
        const rule = this.rules.get(message.slot);
        if (rule) {
          rule.unbind();
          rule.closeConnections();
          this.rules.delete(message.slot);
        }
        this.reply(message.id, null);
        return;
      }
      case 'crash': {
        if (!this.testHooks) return;
        // A real uncaught exception, as a bug would raise, so the restart path is the real one.
        setImmediate(() => {
          throw new Error(`shard ${this.index} crashed on request (test hook)`);
        });
        return;
      }
    }
  }

  private async bind(binding: ShardBinding): Promise<CoreErrorData | null> {
    this.rules.get(binding.slot)?.unbind();
    const accounts = {
      counters: this.counters,
      row: this.counters.row(binding.slot, this.index),
      qos: this.qos,
      qosRule: this.qos.rule(binding.slot),
      qosOwner: this.qos.owner(binding.ownerSlot),
    };
    const rule: ShardRule =
      binding.rule.protocol === 'udp'
        ? createUdpRule(binding.rule, accounts, this.services)
        : new TcpRule(binding.rule, accounts, this.services, this.relayPath, this.nativeAccept);
    const error = await rule.bind();
    if (!error) this.rules.set(binding.slot, rule);
    return error;
  }

  private reply(id: number, error: CoreErrorData | null): void {
    this.send({ type: 'reply', id, error });
  }

  private send(message: FromShard): void {
    this.port.postMessage(message);
  }
}

function dnsServers(): { servers?: string[] } {
  const list = process.env.SLUICE_DNS_SERVERS?.split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  return list === undefined || list.length === 0 ? {} : { servers: list };
}
