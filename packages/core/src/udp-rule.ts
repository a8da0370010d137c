// A UDP rule as one shard runs it on the JS path (node:dgram): used when the splice addon is
// off or absent; udp-native-rule.ts is the same rule on the addon's batched flow path. Each port of the listen gets a socket bound with
// SO_REUSEPORT beside the other shards' (the kernel hashes a client's address to one shard, so
// a flow's datagrams all arrive at the same shard). A flow is keyed by (listen port, client
// address); it gets one connected upstream socket, and replies go back from the listening
// socket so the client sees the address it sent to. A flow ends after idleTimeoutMs without a
// datagram either way, or when the target answers with an ICMP error. The flow table is capped
// rule-wide (max_flows, shared across shards through the QoS table): over the cap a new
// client's datagrams are dropped and counted, and no flow is ever evicted for it.
//
// Targets are ordered as TCP's are (rule-targets.ts). UDP has no handshake, so a target proves
// itself by its first reply (a success for its health) and fails by an ICMP error such as port
// unreachable (a failure). Until the first reply a flow keeps the datagrams it sent; an ICMP
// error then moves the flow to the next target in its order, and those datagrams go again.

import { createSocket, type Socket as DgramSocket, type RemoteInfo } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { connectErrorField, FIELD, rejectField } from '@sluice/counters';
import { QOS_FIELD } from '@sluice/qos';
import { bindError, type CoreErrorData } from './errors.ts';
import { targetPort } from './port-map.ts';
import { encodeProxyHeader } from './proxy-protocol/index.ts';
import { UdpKernelDrops } from './udp-kernel-drops.ts';
import { UdpRuleBase } from './udp-rule-base.ts';

/**
 * Datagrams a new flow holds while its upstream socket connects, and keeps until its target
 * first replies (to send again to the next target after an ICMP error).
 */
const HELD_DATAGRAMS = 64;

class UdpFlow {
  readonly key: string;
  readonly listener: DgramSocket;
  readonly listenPort: number;
  readonly clientAddress: string;
  readonly clientPort: number;
  /** The QoS owner entity the flow was admitted under. */
  readonly qosOwner: number;
  /** The target indices this flow tries, in order, and which one it is on. */
  readonly order: number[];
  attempt = 0;
  upstream: DgramSocket | null = null;
  /** The upstream socket is connected: datagrams go straight out. */
  connected = false;
  /**
   * Datagrams sent (or waiting to be) that the target has not answered yet; null once it has,
   * or once it took more than HELD_DATAGRAMS without answering (the flow then stays with it).
   */
  held: Buffer[] | null = [];
  /** proxy_protocol = "v2": the header every datagram to the target starts with. */
  proxyHeader: Buffer | null = null;
  lastActive: number;
  ended = false;

  constructor(
    key: string,
    listener: DgramSocket,
    listenPort: number,
    client: RemoteInfo,
    qosOwner: number,
    order: number[],
    now: number,
  ) {
    this.key = key;
    this.listener = listener;
    this.listenPort = listenPort;
    this.clientAddress = client.address;
    this.clientPort = client.port;
    this.qosOwner = qosOwner;
    this.order = order;
    this.lastActive = now;
  }

  get target(): number {
    return this.order[this.attempt]!;
  }
}

/** Where a datagram of each direction is charged and counted. */
const DIRECTION = {
  in: { bandwidth: QOS_FIELD.BANDWIDTH_IN, packets: FIELD.PACKETS_IN, bytes: FIELD.BYTES_IN },
  out: { bandwidth: QOS_FIELD.BANDWIDTH_OUT, packets: FIELD.PACKETS_OUT, bytes: FIELD.BYTES_OUT },
} as const;
export class UdpRule extends UdpRuleBase<UdpFlow> {
  private sockets: DgramSocket[] = [];
  private readonly flows = new Map<string, UdpFlow>();
  private readonly drops = new UdpKernelDrops();

  protected closeSockets(): void {
    for (const socket of this.sockets) {
      this.drops.forget(socket);
      socket.close();
    }
    this.sockets = [];
  }

  countDrops(): void {
    const fresh = this.drops.take();
    if (fresh > 0) this.accounts.counters.add(this.accounts.row, FIELD.RECEIVE_BUFFER_DROPS, fresh);
  }

  grantedReceiveBuffer(): number | null {
    if (this.sockets.length === 0) return null;
    // Linux doubles what it is asked for and reads back the doubled size.
    return Math.min(...this.sockets.map((socket) => socket.getRecvBufferSize() / 2));
  }

  /**
   * The rule's udp_receive_buffer on a bound socket. node:dgram sets SO_RCVBUF only, which the
   * kernel caps at net.core.rmem_max (checkReceiveBuffer says so).
   */
  private sizeReceiveBuffer(socket: DgramSocket): void {
    try {
      socket.setRecvBufferSize(this.rule.udpReceiveBufferBytes);
    } catch {
      // ERR_SOCKET_BUFFER_SIZE: the socket keeps the kernel's default, which the check reports.
    }
    this.drops.watch(socket);
  }

  protected openFlows(): UdpFlow[] {
    return [...this.flows.values()];
  }

  protected bindPort(port: number): Promise<CoreErrorData | null> {
    const host = this.rule.listen.host;
    const socket = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4', reusePort: true });
    return new Promise((resolve) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        socket.close();
        resolve(bindError(err, host, port));
      };
      socket.once('error', onError);
      socket.bind({ address: host, port }, () => {
        socket.removeListener('error', onError);
        // Send errors on the listening socket concern one client (ICMP back from it); ignore.
        socket.on('error', () => {});
        socket.on('message', (message, client) => this.onClientDatagram(socket, port, message, client));
        this.sizeReceiveBuffer(socket);
        this.sockets.push(socket);
        resolve(null);
      });
    });
  }

  protected endIdleFlows(): void {
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
      flow = new UdpFlow(key, listener, port, client, this.qosOwner, this.targets.order(), Date.now());
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
      this.openUpstream(flow);
    }
    if (!this.pass(flow, DIRECTION.in, message.length)) return;
    const datagram = flow.proxyHeader === null ? message : Buffer.concat([flow.proxyHeader, message]);
    const held = flow.held;
    if (flow.connected) {
      flow.upstream!.send(datagram);
      if (held !== null) {
        if (held.length < HELD_DATAGRAMS) held.push(datagram);
        else flow.held = null; // the target takes datagrams without a word: it stays the target
      }
    } else if (held !== null && held.length < HELD_DATAGRAMS) {
      held.push(datagram);
    } else {
      counters.add(row, FIELD.DATAGRAMS_DROPPED, 1);
    }
  }

  /** Connects the flow to the target its order is at, and sends what it holds. */
  private openUpstream(flow: UdpFlow): void {
    const index = flow.target;
    const target = this.rule.targets[index]!;
    const port = targetPort(target, this.rule.listen, flow.listenPort);
    this.dns.resolve(target.host, this.rule.preferIpv6).then(
      (addresses) => {
        if (flow.ended) return;
        const address = addresses[0]!;
        const upstream = createSocket({ type: isIPv6(address) ? 'udp6' : 'udp4' });
        flow.upstream = upstream;
        // ICMP port unreachable and the like: this target failed the flow.
        upstream.on('error', (err: NodeJS.ErrnoException) => this.onTargetError(flow, upstream, err));
        upstream.on('message', (reply) => this.onTargetDatagram(flow, reply));
        upstream.connect(port, address, () => {
          if (flow.ended || flow.upstream !== upstream) return;
          this.sizeReceiveBuffer(upstream);
          flow.connected = true;
          for (const datagram of flow.held ?? []) upstream.send(datagram);
        });
      },
      () => {
        this.accounts.counters.add(this.accounts.row, connectErrorField('unreachable'), 1);
        this.targetFailed(flow);
      },
    );
  }

  private onTargetError(flow: UdpFlow, upstream: DgramSocket, err: NodeJS.ErrnoException): void {
    if (flow.ended || flow.upstream !== upstream) return;
    this.upstreamFailed(flow, err.code);
  }

  /**
   * The flow's target refused it. Before its first reply the flow moves on to the next target
   * with what it holds; after it (or with no target left) the flow ends.
   */
  protected targetFailed(flow: UdpFlow): void {
    this.targets.failed(flow.target);
    if (flow.held === null || flow.attempt + 1 >= flow.order.length) {
      this.endFlow(flow);
      return;
    }
    this.closeUpstream(flow);
    flow.connected = false;
    flow.attempt++;
    if (flow.attempt === 1) this.targets.failedOver();
    this.openUpstream(flow);
  }

  /** Charges a datagram to the flow's caps and counts it; false when it is over budget and dropped. */
  private pass(flow: UdpFlow, direction: (typeof DIRECTION)[keyof typeof DIRECTION], bytes: number): boolean {
    const { counters, row, qos, qosRule } = this.accounts;
    const over = qos.takeDatagram(flow.qosOwner, qosRule, direction.bandwidth, bytes);
    if (over !== null) {
      counters.add(row, over === 'quota' ? rejectField('quota_exhausted') : FIELD.DATAGRAMS_DROPPED, 1);
      return false;
    }
    flow.lastActive = Date.now();
    counters.add(row, direction.packets, 1);
    counters.add(row, direction.bytes, bytes);
    return true;
  }

  private onTargetDatagram(flow: UdpFlow, reply: Buffer): void {
    if (flow.held !== null) {
      // The first reply: this target is up, and what the flow held has arrived.
      flow.held = null;
      this.targets.succeeded(flow.target);
    }
    if (!this.pass(flow, DIRECTION.out, reply.length)) return;
    flow.listener.send(reply, flow.clientPort, flow.clientAddress);
  }

  /**
   * Drops the kernel counted on the socket since the last read go with it: reading
   * /proc/net/udp for every flow that ends would cost more than they are worth.
   */
  private closeUpstream(flow: UdpFlow): void {
    if (flow.upstream === null) return;
    this.drops.forget(flow.upstream);
    flow.upstream.close();
    flow.upstream = null;
  }

  protected endFlow(flow: UdpFlow): void {
    if (flow.ended) return;
    flow.ended = true;
    this.flows.delete(flow.key);
    this.closeUpstream(flow);
    flow.held = null;
    const { counters, row, qos, qosRule } = this.accounts;
    qos.release(flow.qosOwner, qosRule);
    counters.add(row, FIELD.ACTIVE_FLOWS, -1);
  }
}
