// A rule as one shard runs it: its listener (bound with SO_REUSEPORT beside the other shards'),
// its target order, its counter row and the connections it still carries.

import { createServer, type Server, type Socket } from 'node:net';
import type { RuleSpec } from '@sluice/config';
import type { QosTable } from '@sluice/qos';
import type { Counters } from './counters.ts';
import { bindErrorCode, type CoreErrorData, coreError } from './errors.ts';
import type { RelayPath, RuleAccounts } from './relay-path.ts';
import { TargetPicker } from './target-picker.ts';
import { TcpConnection } from './tcp-connection.ts';

export interface ResolvedTarget {
  readonly host: string;
  readonly port: number;
}

export function listenLabel(rule: RuleSpec): string {
  const host = rule.listen.host.includes(':') ? `[${rule.listen.host}]` : rule.listen.host;
  const ports = rule.listen.portLo === rule.listen.portHi ? `${rule.listen.portLo}` : `${rule.listen.portLo}-${rule.listen.portHi}`;
  return `${host}:${ports}`;
}

export class RuleRuntime {
  rule: RuleSpec;
  targets: ResolvedTarget[];
  picker: TargetPicker;
  readonly counters: Counters;
  readonly row: number;
  readonly qos: QosTable;
  readonly qosRule: number;
  /** A reload may move the rule to another owner; connections keep the one they were admitted under. */
  qosOwner: number;
  readonly relayPath: RelayPath;
  private server: Server | null = null;
  private readonly connections = new Set<TcpConnection>();

  constructor(rule: RuleSpec, relayPath: RelayPath, accounts: RuleAccounts) {
    this.rule = rule;
    this.counters = accounts.counters;
    this.row = accounts.row;
    this.qos = accounts.qos;
    this.qosRule = accounts.qosRule;
    this.qosOwner = accounts.qosOwner;
    this.relayPath = relayPath;
    this.targets = resolveTargets(rule);
    this.picker = new TargetPicker(this.targets.length, rule.balance);
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  bind(): Promise<CoreErrorData | null> {
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, this.onConnection);
    this.server = server;
    return new Promise((resolve) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        this.server = null;
        resolve(coreError(bindErrorCode(err.code), { listen: listenLabel(this.rule), detail: err.message }));
      };
      server.once('error', onError);
      server.listen({ host: this.rule.listen.host, port: this.rule.listen.portLo, reusePort: true, backlog: 4096 }, () => {
        server.removeListener('error', onError);
        server.on('error', () => {}); // accept errors (EMFILE) are transient; Node retries.
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
    this.targets = resolveTargets(rule);
    this.picker = new TargetPicker(this.targets.length, rule.balance);
  }

  /** Stops accepting at once; open connections go on until they end or are closed. */
  unbind(): void {
    // close() stops listening now; its callback would wait for every connection, which the
    // supervisor tracks itself through the counters.
    this.server?.close();
    this.server = null;
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

function resolveTargets(rule: RuleSpec): ResolvedTarget[] {
  return rule.targets.map((target) => ({ host: target.host, port: target.portLo ?? rule.listen.portLo }));
}
