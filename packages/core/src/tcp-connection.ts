// One accepted TCP connection through its life: pick a target, connect (walking on to the next
// target when a connect fails), hand both sockets to the relay path, and report when it is gone.

import type { Socket } from 'node:net';
import { connectErrorField, FIELD, rejectField } from './counters-layout.ts';
import type { RelayHandle } from './relay-path.ts';
import type { RuleRuntime } from './rule-runtime.ts';
import { targetPort } from './port-map.ts';
import { connectTarget, type PendingConnect } from './target-connect.ts';

export class TcpConnection {
  private readonly runtime: RuleRuntime;
  /** Dropped once the relay owns the pair, so a spliced connection keeps no socket alive. */
  private client: Socket | null;
  private pending: PendingConnect | null = null;
  private relay: RelayHandle | null = null;
  private finished = false;
  /** The QoS owner entity this connection was admitted under (the rule may change owner later). */
  private qosOwner = -1;

  /** The port of the listen range this connection came in on (targets map by its offset). */
  private readonly listenPort: number;

  constructor(runtime: RuleRuntime, client: Socket) {
    this.runtime = runtime;
    this.client = client;
    this.listenPort = client.localPort ?? runtime.rule.listen.portLo;
  }

  start(): void {
    const { counters, row, qos, qosRule } = this.runtime;
    const client = this.client!;
    const refused = qos.admit(this.runtime.qosOwner, qosRule);
    if (refused !== null) {
      // Over a connection cap or rate: closed at accept, before any target is tried.
      // TCP rules have no flow cap, so max_flows never refuses here.
      counters.add(row, refused === 'rule_max_flows' ? FIELD.FLOWS_DROPPED : rejectField(refused), 1);
      this.finished = true;
      this.runtime.connectionClosed(this);
      client.on('error', onPendingClientError);
      client.resetAndDestroy();
      return;
    }
    this.qosOwner = this.runtime.qosOwner;
    counters.add(row, FIELD.TOTAL, 1);
    counters.add(row, FIELD.ACTIVE, 1);
    client.on('error', onPendingClientError);
    client.once('close', this.onClientGoneEarly);
    const targets = this.runtime.targets;
    if (targets.length === 0) {
      // Only an SNI rule without a default target has none; its misses are counted there.
      counters.add(row, rejectField('no_target'), 1);
      client.resetAndDestroy();
      return;
    }
    this.tryTarget(this.runtime.picker.first(), targets.length);
  }

  destroy(): void {
    if (this.relay) this.relay.destroy();
    else {
      this.pending?.abort();
      this.client?.resetAndDestroy();
    }
  }

  private tryTarget(index: number, attemptsLeft: number): void {
    const rule = this.runtime.rule;
    const target = this.runtime.targets[index]!;
    const port = targetPort(target, rule.listen, this.listenPort);
    this.pending = connectTarget(target.host, port, rule.connectTimeoutMs, (error, upstream) => {
      this.pending = null;
      if (error) {
        this.runtime.counters.add(this.runtime.row, connectErrorField(error), 1);
        if (attemptsLeft > 1) this.tryTarget((index + 1) % this.runtime.targets.length, attemptsLeft - 1);
        else this.client?.resetAndDestroy();
        return;
      }
      this.startRelay(upstream!);
    });
  }

  private startRelay(upstream: Socket): void {
    const client = this.client!;
    this.client = null;
    client.removeListener('error', onPendingClientError);
    client.removeListener('close', this.onClientGoneEarly);
    this.relay = this.runtime.relayPath(client, upstream, {
      counters: this.runtime.counters,
      row: this.runtime.row,
      qos: this.runtime.qos,
      qosRule: this.runtime.qosRule,
      qosOwner: this.qosOwner,
      halfCloseTimeoutMs: this.runtime.rule.halfCloseTimeoutMs,
      onClose: this.finish,
    });
  }

  private readonly onClientGoneEarly = (): void => {
    this.pending?.abort();
    this.finish();
  };

  private readonly finish = (): void => {
    if (this.finished) return;
    this.finished = true;
    // Give the QoS places back before the gauge drops: the supervisor reuses a rule slot (and
    // resets its QoS entity) once the gauge reads zero.
    this.runtime.qos.release(this.qosOwner, this.runtime.qosRule);
    this.runtime.counters.add(this.runtime.row, FIELD.ACTIVE, -1);
    this.runtime.connectionClosed(this);
  };
}

// Before the relay owns the client, an error (a reset while we connect) just ends it; 'close'
// follows and is handled there.
function onPendingClientError(): void {}
