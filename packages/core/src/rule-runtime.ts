// A TCP rule as one shard runs it: its listeners, one per port of the listen range (bound with
// SO_REUSEPORT beside the other shards'), its target order, its counter row and the
// connections it still carries.

import { createServer, type Server, type Socket } from 'node:net';
import { formatListen, type RuleSpec, type TargetSpec } from '@sluice/config';
import type { QosTable } from '@sluice/qos';
import type { Counters } from './counters.ts';
import { bindErrorCode, type CoreErrorData, coreError } from './errors.ts';
import { listenPorts, targetPort } from './port-map.ts';
import { listenAt } from './port-probe.ts';
import type { RelayPath, RuleAccounts } from './relay-path.ts';
import type { ShardRule } from './shard-rule.ts';
import type { DnsCache } from './dns-cache.ts';
import { FIELD } from './counters-layout.ts';
import { SniRouter } from './sni/sni-router.ts';
import { connectTarget } from './target-connect.ts';
import { TargetHealth } from './target-health.ts';
import { TcpConnection } from './tcp-connection.ts';

export function listenLabel(rule: RuleSpec): string {
  return formatListen(rule.listen);
}

export type ShardLog = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

/** What a shard lends its rules: one DNS cache for all of them, and its log. */
export interface ShardServices {
  readonly dns: DnsCache;
  readonly log: ShardLog;
}

export class RuleRuntime implements ShardRule {
  rule: RuleSpec;
  targets: readonly TargetSpec[];
  /** Per rule and shard: passive health from this shard's connects, and the optional probe. */
  health: TargetHealth;
  /** null: the rule has no SNI routes. */
  sni: SniRouter | null;
  readonly dns: DnsCache;
  readonly log: ShardLog;
  readonly counters: Counters;
  readonly row: number;
  readonly qos: QosTable;
  readonly qosRule: number;
  /** A reload may move the rule to another owner; connections keep the one they were admitted under. */
  qosOwner: number;
  readonly relayPath: RelayPath;
  private servers: Server[] = [];
  private readonly connections = new Set<TcpConnection>();

  constructor(rule: RuleSpec, relayPath: RelayPath, accounts: RuleAccounts, services: ShardServices) {
    this.rule = rule;
    this.dns = services.dns;
    this.log = services.log;
    this.counters = accounts.counters;
    this.row = accounts.row;
    this.qos = accounts.qos;
    this.qosRule = accounts.qosRule;
    this.qosOwner = accounts.qosOwner;
    this.relayPath = relayPath;
    this.targets = rule.targets;
    this.sni = rule.sni === null ? null : new SniRouter(rule.sni);
    this.health = this.newHealth();
  }

  /** A connection moved past its first-choice target. */
  failover(): void {
    this.counters.add(this.row, FIELD.FAILOVERS, 1);
  }

  private newHealth(): TargetHealth {
    const health = new TargetHealth(this.targets.length, {
      onChange: () => {
        let down = 0n;
        health.states().forEach((up, i) => {
          if (!up) down |= 1n << BigInt(i);
        });
        this.counters.store(this.row, FIELD.TARGETS_DOWN, down);
      },
    });
    this.counters.store(this.row, FIELD.TARGETS_DOWN, 0n);
    const interval = this.rule.healthCheckIntervalMs;
    if (interval !== null) health.startProbing(interval, (index) => this.probe(index));
    return health;
  }

  /**
   * The active health check: a TCP connect to the target, closed at once. A name's addresses are
   * tried in turn, as connections try them: one that answers is enough.
   */
  private async probe(index: number): Promise<boolean> {
    const target = this.targets[index];
    if (target === undefined) return false;
    let addresses: string[];
    try {
      addresses = await this.dns.resolve(target.host, this.rule.preferIpv6);
    } catch {
      return false;
    }
    const port = targetPort(target, this.rule.listen, this.rule.listen.portLo);
    for (const address of addresses) {
      const up = await new Promise<boolean>((resolve) => {
        connectTarget(address, port, this.rule.connectTimeoutMs, (error, socket) => {
          socket?.destroy();
          resolve(error === null);
        });
      });
      if (up) return true;
    }
    return false;
  }


  get connectionCount(): number {
    return this.connections.size;
  }

  /** Binds every port of the listen, or none: the first port that fails is named and the rest closed. */
  async bind(): Promise<CoreErrorData | null> {
    for (const port of listenPorts(this.rule.listen)) {
      const error = await this.bindPort(port);
      if (error) {
        this.unbind();
        return error;
      }
    }
    return null;
  }

  private bindPort(port: number): Promise<CoreErrorData | null> {
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, this.onConnection);
    const host = this.rule.listen.host;
    return new Promise((resolve) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        resolve(coreError(bindErrorCode(err.code), { listen: listenAt(host, port), detail: err.message }));
      };
      server.once('error', onError);
      server.listen({ host, port, reusePort: true, backlog: 4096 }, () => {
        server.removeListener('error', onError);
        server.on('error', () => {}); // accept errors (EMFILE) are transient; Node retries.
        this.servers.push(server);
        resolve(null);
      });
    });
  }

  /**
   * Targets apply to new connections; running ones keep the relay they have. Caps live in the
   * shared QoS table, where the supervisor changed them for running connections too.
   */
  update(rule: RuleSpec, qosOwner: number): void {
    // Health belongs to the target list: a change of caps or timeouts keeps what was learnt.
    const targetsChanged =
      JSON.stringify(rule.targets) !== JSON.stringify(this.rule.targets) ||
      rule.healthCheckIntervalMs !== this.rule.healthCheckIntervalMs ||
      rule.preferIpv6 !== this.rule.preferIpv6;
    this.rule = rule;
    this.qosOwner = qosOwner;
    this.targets = rule.targets;
    this.sni = rule.sni === null ? null : new SniRouter(rule.sni);
    if (targetsChanged) {
      this.health.stop();
      this.health = this.newHealth();
    }
  }

  /** Stops accepting at once; open connections go on until they end or are closed. */
  unbind(): void {
    // close() stops listening now; its callback would wait for every connection, which the
    // supervisor tracks itself through the counters.
    for (const server of this.servers) server.close();
    this.servers = [];
    this.health.stop();
  }

  closeConnections(): void {
    for (const connection of this.connections) connection.destroy();
  }

  connectionClosed(connection: TcpConnection): void {
    this.connections.delete(connection);
  }

  private readonly onConnection = (client: Socket): void => {
    const connection = new TcpConnection(this, client);
    this.connections.add(connection);
    connection.start();
  };
}
