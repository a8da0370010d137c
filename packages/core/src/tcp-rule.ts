// A TCP rule as one shard runs it: its listeners, one per port of the listen range (bound with
// SO_REUSEPORT beside the other shards'), its targets, its counter row and the connections it
// still carries.

import { createServer, type Server, type Socket } from 'node:net';
import type { RuleSpec } from '@sluice/config';
import { formatListen } from '@sluice/config/address';
import {
  type AcceptErrorReason,
  acceptErrorField,
  type RelayErrorReason,
  rejectField,
  relayErrorField,
} from '@sluice/counters';
import type { NativeAccept } from '@sluice/splice';
import { BurstLog } from './burst-log.ts';
import type { ConnectionContext, RuleConnection } from './connection-context.ts';
import type { ConnectionGate } from './connection-gate.ts';
import type { DnsCache } from './dns-cache.ts';
import { acceptErrorReason } from './errno-reasons.ts';
import { bindError, type CoreErrorData, nativeBindError } from './errors.ts';
import type { LogFn } from './log-fn.ts';
import { NativeConnections, nativeEligible } from './native-connections.ts';
import { bindEveryPort } from './port-map.ts';
import type { RelayPath, RuleAccounts } from './relay-path.ts';
import { RuleTargets } from './rule-targets.ts';
import type { ShardRule, ShardServices } from './shard-rule.ts';
import { SniRouter } from './sni/sni-router.ts';
import { tcpProbe } from './target-probe.ts';
import { TcpConnection } from './tcp-connection.ts';

export class TcpRule implements ShardRule, ConnectionContext {
  rule: RuleSpec;
  accounts: RuleAccounts;
  readonly targets: RuleTargets;
  sni: SniRouter | null;
  readonly dns: DnsCache;
  readonly log: LogFn;
  readonly relayPath: RelayPath;
  private readonly burst: BurstLog;
  /** The shard's share of the edge's connection budget (max_connections). */
  private readonly gate: ConnectionGate;
  private servers: Server[] = [];
  private readonly connections = new Set<RuleConnection>();
  /** The native connection path, when this thread has it and the rule qualified at bind. */
  private readonly nativeAccept: NativeAccept | null;
  private native: NativeConnections | null = null;

  constructor(
    rule: RuleSpec,
    accounts: RuleAccounts,
    services: ShardServices,
    relayPath: RelayPath,
    nativeAccept: NativeAccept | null = null,
  ) {
    this.rule = rule;
    this.nativeAccept = nativeAccept;
    this.accounts = accounts;
    this.dns = services.dns;
    this.log = services.log;
    this.relayPath = relayPath;
    this.burst = new BurstLog(services.log);
    this.gate = services.gate;
    this.targets = new RuleTargets(rule, accounts.counters, accounts.row, services.dns, tcpProbe);
    this.sni = rule.sni === null ? null : new SniRouter(rule.sni);
  }

  /** Binds every port of the listen, or none: the first port that fails is named and the rest closed. */
  bind(): Promise<CoreErrorData | null> {
    if (this.nativeAccept !== null && nativeEligible(this.rule)) {
      const native = new NativeConnections(this.nativeAccept, this, this.startConnection, this.gate);
      this.native = native;
      return bindEveryPort(
        this.rule.listen,
        (port) => {
          const errno = native.listen(port);
          if (errno === null) return Promise.resolve(null);
          return Promise.resolve(nativeBindError('listen', errno, this.rule.listen.host, port));
        },
        () => this.unbind(),
      );
    }
    return bindEveryPort(
      this.rule.listen,
      (port) => this.bindPort(port),
      () => this.unbind(),
    );
  }

  private bindPort(port: number): Promise<CoreErrorData | null> {
    const server = createServer(
      { allowHalfOpen: true, pauseOnConnect: true, noDelay: true },
      this.onConnection,
    );
    const host = this.rule.listen.host;
    return new Promise((resolve) => {
      const onError = (err: NodeJS.ErrnoException): void => resolve(bindError(err, host, port));
      server.once('error', onError);
      server.listen({ host, port, reusePort: true, backlog: 4096 }, () => {
        server.removeListener('error', onError);
        // After listen, an error is a failed accept(2); the listener goes on accepting. libuv
        // absorbs most EMFILE/ENFILE itself (it keeps a spare descriptor to accept and close
        // the waiting connections), so this fires only when it could not.
        server.on('error', (err: NodeJS.ErrnoException) => {
          this.acceptFailed(acceptErrorReason(err.code) ?? 'other', err.code ?? 'EUNKNOWN');
        });
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
    this.accounts = { ...this.accounts, qosOwner };
    this.targets.update(rule);
    this.sni = rule.sni === null ? null : new SniRouter(rule.sni);
    this.native?.update();
  }

  /** Stops accepting at once; open connections go on until they end or are closed. */
  unbind(): void {
    // close() stops listening now; its callback would wait for every connection, which the
    // supervisor tracks itself through the counters.
    for (const server of this.servers) server.close();
    this.servers = [];
    this.native?.unbind();
    this.targets.stop();
  }

  closeConnections(): void {
    this.gate.closeHeld(this);
    for (const connection of this.connections) connection.destroy();
    this.native?.closeConnections();
    this.burst.stop();
  }

  cutOverQuota(): void {
    const { qos } = this.accounts;
    for (const connection of this.connections) {
      if (connection.quotaOwner >= 0 && qos.quotaExhausted(connection.quotaOwner)) connection.cutForQuota();
    }
    this.native?.cutOverQuota();
  }

  acceptFailed(reason: AcceptErrorReason, errno: string): void {
    this.accounts.counters.add(this.accounts.row, acceptErrorField(reason), 1);
    this.burst.note(`accept ${errno}`, 'warn', 'accept failed', {
      rule: this.rule.name,
      listen: formatListen(this.rule.listen),
      reason,
      errno,
    });
  }

  relayFailed(reason: RelayErrorReason, errno: string): void {
    this.accounts.counters.add(this.accounts.row, relayErrorField(reason), 1);
    this.burst.note(`relay ${reason} ${errno}`, 'info', 'relay error', {
      rule: this.rule.name,
      reason,
      errno,
    });
  }

  // A property, not a method: every connection hands this same function to its relay.
  readonly spliceRefused = (errno: string): void => {
    this.burst.note(`splice ${errno}`, 'warn', 'splice refused a connection; the JS relay carries it', {
      rule: this.rule.name,
      errno,
    });
  };

  connectionClosed(connection: RuleConnection): void {
    this.connections.delete(connection);
    this.gate.release();
  }

  /** node:net accepted it: it runs once the edge has a place for it (connection-gate.ts). */
  private readonly onConnection = (client: Socket): void => {
    this.gate.admit(this, client, this.startConnection, this.refuseConnection);
  };

  /** The edge is full and so is the line of connections waiting for a place. */
  private readonly refuseConnection = (client: Socket): void => {
    this.accounts.counters.add(this.accounts.row, rejectField('edge_max_connections'), 1);
    client.on('error', () => {});
    client.resetAndDestroy();
  };

  /** A connection that holds its place in the budget (taken by the gate, or by the addon's accept). */
  private readonly startConnection = (client: Socket): void => {
    const connection = new TcpConnection(this, client);
    this.connections.add(connection);
    connection.start();
  };
}
