// A TCP rule as one shard runs it: its listeners, one per port of the listen range (bound with
// SO_REUSEPORT beside the other shards'), its target order, its counter row and the
// connections it still carries.

import { createServer, type Server, type Socket } from 'node:net';
import type { RuleSpec, TargetSpec } from '@sluice/config';
import type { QosTable } from '@sluice/qos';
import type { Counters } from './counters.ts';
import { bindErrorCode, type CoreErrorData, coreError } from './errors.ts';
import { listenPorts } from './port-map.ts';
import { listenAt } from './port-probe.ts';
import type { RelayPath, RuleAccounts } from './relay-path.ts';
import type { ShardRule } from './shard-rule.ts';
import { TargetPicker } from './target-picker.ts';
import { TcpConnection } from './tcp-connection.ts';

export function listenLabel(rule: RuleSpec): string {
  const host = rule.listen.host.includes(':') ? `[${rule.listen.host}]` : rule.listen.host;
  const ports = rule.listen.portLo === rule.listen.portHi ? `${rule.listen.portLo}` : `${rule.listen.portLo}-${rule.listen.portHi}`;
  return `${host}:${ports}`;
}

export class RuleRuntime implements ShardRule {
  rule: RuleSpec;
  targets: readonly TargetSpec[];
  picker: TargetPicker;
  readonly counters: Counters;
  readonly row: number;
  readonly qos: QosTable;
  readonly qosRule: number;
  /** A reload may move the rule to another owner; connections keep the one they were admitted under. */
  qosOwner: number;
  readonly relayPath: RelayPath;
  private servers: Server[] = [];
  private readonly connections = new Set<TcpConnection>();

  constructor(rule: RuleSpec, relayPath: RelayPath, accounts: RuleAccounts) {
    this.rule = rule;
    this.counters = accounts.counters;
    this.row = accounts.row;
    this.qos = accounts.qos;
    this.qosRule = accounts.qosRule;
    this.qosOwner = accounts.qosOwner;
    this.relayPath = relayPath;
    this.targets = rule.targets;
    this.picker = new TargetPicker(this.targets.length, rule.balance);
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
    this.rule = rule;
    this.qosOwner = qosOwner;
    this.targets = rule.targets;
    this.picker = new TargetPicker(this.targets.length, rule.balance);
  }

  /** Stops accepting at once; open connections go on until they end or are closed. */
  unbind(): void {
    // close() stops listening now; its callback would wait for every connection, which the
    // supervisor tracks itself through the counters.
    for (const server of this.servers) server.close();
    this.servers = [];
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
