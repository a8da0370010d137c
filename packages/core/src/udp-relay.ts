// A UDP rule as one shard runs it. Each port of the listen gets a socket bound with
// SO_REUSEPORT beside the other shards' (the kernel hashes a client's address to one shard, so
// a flow's datagrams all arrive at the same shard). A flow is keyed by (listen port, client
// address); it gets one connected upstream socket, and replies go back from the listening
// socket so the client sees the address it sent to. A flow ends after idleTimeoutMs without a
// datagram either way, or when the target answers with an ICMP error. The flow table is capped
// rule-wide (max_flows, shared across shards through the QoS table): over the cap a new
// client's datagrams are dropped and counted, and no flow is ever evicted for it.

import { createSocket, type Socket as DgramSocket, type RemoteInfo } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { RuleSpec } from '@sluice/config';
import { QOS_FIELD } from '@sluice/qos';
import { connectErrorField, FIELD, rejectField } from './counters-layout.ts';
import { bindErrorCode, type CoreErrorData, coreError } from './errors.ts';
import { listenPorts, targetPort } from './port-map.ts';
import { listenAt } from './port-probe.ts';
import { encodeProxyHeader } from './proxy-protocol/index.ts';
import type { RuleAccounts } from './relay-path.ts';
import type { ShardRule } from './shard-rule.ts';
import { TargetPicker } from './target-picker.ts';

/** Datagrams a new flow holds while its upstream socket connects. */
const PENDING_DATAGRAMS = 64;
/** The idle sweep runs this often at most, and at least every quarter of the idle timeout. */
const MAX_SWEEP_MS = 1_000;
const MIN_SWEEP_MS = 20;

export type AddressResolver = (host: string, preferIpv6: boolean) => Promise<string[]>;

/** IP literals only; the DNS cache replaces this where names are allowed. */
export const literalAddresses: AddressResolver = async (host) => [host];

class UdpFlow {
  readonly key: string;
  readonly listener: DgramSocket;
  readonly clientAddress: string;
  readonly clientPort: number;
  /** The QoS owner entity the flow was admitted under. */
  readonly qosOwner: number;
  upstream: DgramSocket | null = null;
  /** proxy_protocol = "v2": the header every datagram to the target starts with. */
  proxyHeader: Buffer | null = null;
  pending: Buffer[] | null = [];
  lastActive: number;
  ended = false;

  constructor(key: string, listener: DgramSocket, client: RemoteInfo, qosOwner: number, now: number) {
    this.key = key;
    this.listener = listener;
    this.clientAddress = client.address;
    this.clientPort = client.port;
    this.qosOwner = qosOwner;
    this.lastActive = now;
  }
}

export class UdpRelay implements ShardRule {
  rule: RuleSpec;
  private readonly accounts: RuleAccounts;
  private qosOwner: number;
  private picker: TargetPicker;
  private readonly resolve: AddressResolver;
  private sockets: DgramSocket[] = [];
  private readonly flows = new Map<string, UdpFlow>();
  private sweep: NodeJS.Timeout | null = null;

  constructor(rule: RuleSpec, accounts: RuleAccounts, resolve: AddressResolver = literalAddresses) {
    this.rule = rule;
    this.accounts = accounts;
    this.qosOwner = accounts.qosOwner;
    this.picker = new TargetPicker(rule.targets.length, rule.balance);
    this.resolve = resolve;
  }

  get connectionCount(): number {
    return this.flows.size;
  }

  /** Binds every port of the listen, or none: the first port that fails is named. */
  async bind(): Promise<CoreErrorData | null> {
    for (const port of listenPorts(this.rule.listen)) {
      const error = await this.bindPort(port);
      if (error) {
        this.unbind();
        return error;
      }
    }
    this.startSweep();
    return null;
  }

  update(rule: RuleSpec, qosOwner: number): void {
    const sweepChanged = rule.idleTimeoutMs !== this.rule.idleTimeoutMs;
    this.rule = rule;
    this.qosOwner = qosOwner;
    this.picker = new TargetPicker(rule.targets.length, rule.balance);
    if (sweepChanged && this.sweep !== null) {
      clearInterval(this.sweep);
      this.startSweep();
    }
  }

  /**
   * Replies leave through the listening socket, so a UDP rule cannot stop listening and go on
   * relaying: unbinding ends its flows with it.
   */
  unbind(): void {
    this.closeConnections();
    if (this.sweep !== null) clearInterval(this.sweep);
    this.sweep = null;
    for (const socket of this.sockets) socket.close();
    this.sockets = [];
  }

  closeConnections(): void {
    for (const flow of [...this.flows.values()]) this.endFlow(flow);
  }

  private bindPort(port: number): Promise<CoreErrorData | null> {
    const host = this.rule.listen.host;
    const socket = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', reusePort: true });
    return new Promise((resolve) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        socket.close();
        resolve(coreError(bindErrorCode(err.code), { listen: listenAt(host, port), detail: err.message }));
      };
      socket.once('error', onError);
      socket.bind({ address: host, port }, () => {
        socket.removeListener('error', onError);
        // Send errors on the listening socket concern one client (ICMP back from it); ignore.
        socket.on('error', () => {});
        socket.on('message', (message, client) => this.onClientDatagram(socket, port, message, client));
        this.sockets.push(socket);
        resolve(null);
      });
    });
  }

  private startSweep(): void {
    const every = Math.min(MAX_SWEEP_MS, Math.max(MIN_SWEEP_MS, Math.floor(this.rule.idleTimeoutMs / 4)));
    this.sweep = setInterval(() => this.endIdleFlows(), every);
    this.sweep.unref();
  }

  private endIdleFlows(): void {
    const cutoff = Date.now() - this.rule.idleTimeoutMs;
    for (const flow of [...this.flows.values()]) if (flow.lastActive <= cutoff) this.endFlow(flow);
  }

  private onClientDatagram(listener: DgramSocket, port: number, message: Buffer, client: RemoteInfo): void {
    const { counters, row, qos, qosRule } = this.accounts;
    const key = `${port} ${client.address} ${client.port}`;
    let flow = this.flows.get(key);
    if (flow === undefined) {
      const refused = qos.admit(this.qosOwner, qosRule, undefined, this.rule.maxFlows);
      if (refused !== null) {
        counters.add(row, refused === 'rule_max_flows' ? FIELD.FLOWS_DROPPED : rejectField(refused), 1);
        return;
      }
      flow = new UdpFlow(key, listener, client, this.qosOwner, Date.now());
      if (this.rule.proxyProtocol === 'v2') {
        flow.proxyHeader = encodeProxyHeader(
          'v2',
          { address: client.address, port: client.port },
          { address: listener.address().address, port },
          { protocol: 'udp' },
        );
      }
      this.flows.set(key, flow);
      counters.add(row, FIELD.TOTAL, 1);
      counters.add(row, FIELD.ACTIVE_FLOWS, 1);
      this.openUpstream(flow, port);
    }
    if (!qos.takeDatagram(flow.qosOwner, qosRule, QOS_FIELD.BANDWIDTH_IN, message.length)) {
      counters.add(row, FIELD.DATAGRAMS_DROPPED, 1);
      return;
    }
    flow.lastActive = Date.now();
    counters.add(row, FIELD.PACKETS_IN, 1);
    counters.add(row, FIELD.BYTES_IN, message.length);
    const datagram = flow.proxyHeader === null ? message : Buffer.concat([flow.proxyHeader, message]);
    if (flow.upstream !== null && flow.pending === null) flow.upstream.send(datagram);
    else if (flow.pending !== null && flow.pending.length < PENDING_DATAGRAMS) flow.pending.push(datagram);
    else counters.add(row, FIELD.DATAGRAMS_DROPPED, 1);
  }

  private openUpstream(flow: UdpFlow, listenPort: number): void {
    const targets = this.rule.targets;
    const index = this.picker.first();
    const target = targets[index]!;
    const port = targetPort(target, this.rule.listen, listenPort);
    this.resolve(target.host, this.rule.preferIpv6).then(
      (addresses) => {
        if (flow.ended) return;
        const address = addresses[0]!;
        const upstream = createSocket({ type: isIPv6(address) ? 'udp6' : 'udp4' });
        flow.upstream = upstream;
        upstream.on('error', () => this.endFlow(flow)); // ICMP unreachable and the like
        upstream.on('message', (reply) => this.onTargetDatagram(flow, reply));
        upstream.connect(port, address, () => {
          if (flow.ended) return;
          const pending = flow.pending ?? [];
          flow.pending = null;
          for (const message of pending) upstream.send(message);
        });
      },
      () => {
        this.accounts.counters.add(this.accounts.row, connectErrorField('unreachable'), 1);
        this.endFlow(flow);
      },
    );
  }

  private onTargetDatagram(flow: UdpFlow, reply: Buffer): void {
    const { counters, row, qos, qosRule } = this.accounts;
    if (!qos.takeDatagram(flow.qosOwner, qosRule, QOS_FIELD.BANDWIDTH_OUT, reply.length)) {
      counters.add(row, FIELD.DATAGRAMS_DROPPED, 1);
      return;
    }
    flow.lastActive = Date.now();
    counters.add(row, FIELD.PACKETS_OUT, 1);
    counters.add(row, FIELD.BYTES_OUT, reply.length);
    flow.listener.send(reply, flow.clientPort, flow.clientAddress);
  }

  private endFlow(flow: UdpFlow): void {
    if (flow.ended) return;
    flow.ended = true;
    this.flows.delete(flow.key);
    flow.upstream?.close();
    flow.upstream = null;
    flow.pending = null;
    const { counters, row, qos, qosRule } = this.accounts;
    qos.release(flow.qosOwner, qosRule);
    counters.add(row, FIELD.ACTIVE_FLOWS, -1);
  }
}
