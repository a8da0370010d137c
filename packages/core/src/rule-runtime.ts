// A rule as one shard runs it: its listener (bound with SO_REUSEPORT beside the other shards'),
// its target order, its counter row and the connections it still carries.

import { createServer, type Server, type Socket } from 'node:net';
import type { RuleSpec } from '@sluice/config';
import type { Counters } from './counters.ts';
import { bindErrorCode, type CoreErrorData, coreError } from './errors.ts';
import type { RelayPath } from './relay-path.ts';
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
  readonly relayPath: RelayPath;
  private server: Server | null = null;
  private readonly connections = new Set<TcpConnection>();

  constructor(rule: RuleSpec, counters: Counters, row: number, relayPath: RelayPath) {
    this.rule = rule;
    this.counters = counters;
    this.row = row;
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

  /** Targets and caps apply to new connections; running ones keep the relay they have. */
  update(rule: RuleSpec): void {
    this.rule = rule;
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
