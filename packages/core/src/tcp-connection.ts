// One accepted TCP connection through its life:
//   admit (QoS caps, owner first) -> read what the client sends first when the rule needs it
//   (a PROXY header with accept_proxy, the ClientHello for SNI routes) -> pick the targets ->
//   resolve and connect, walking on to the next address and target when a connect fails ->
//   write the PROXY header and replay the bytes read so far -> hand both sockets to the relay
//   path -> report when it is gone.

import type { Socket } from 'node:net';
import type { TargetSpec } from '@sluice/config';
import { connectErrorField, FIELD, type RejectReason, rejectField } from '@sluice/counters';
import { QOS_FIELD } from '@sluice/qos';
import { type PreludeVerdict, readPrelude } from './client-prelude.ts';
import type { ConnectionContext, RuleConnection } from './connection-context.ts';
import { acceptErrorReason, connectErrorReason } from './errno-reasons.ts';
import { targetPort } from './port-map.ts';
import {
  encodeProxyHeader,
  MAX_PROXY_HEADER_BYTES,
  type ProxyEndpoint,
  type ProxyParse,
  parseProxyHeader,
} from './proxy-protocol/index.ts';
import type { RelayFailure, RelayHandle } from './relay-path.ts';
import { type ClientHelloResult, MAX_CLIENT_HELLO_BYTES, parseClientHello } from './sni/client-hello.ts';
import { connectTarget, type PendingConnect } from './target-connect.ts';

/** How long a client may take to send its PROXY header, or its ClientHello. */
export const PRELUDE_TIMEOUT_MS = 3_000;

const EMPTY: Buffer = Buffer.alloc(0);

function proxyVerdict(bytes: Buffer): PreludeVerdict<ProxyParse> {
  const parsed = parseProxyHeader(bytes);
  return parsed.kind === 'incomplete' ? { done: false } : { done: true, value: parsed };
}

function helloVerdict(bytes: Buffer): PreludeVerdict<ClientHelloResult> {
  const parsed = parseClientHello(bytes);
  return parsed.kind === 'incomplete' ? { done: false } : { done: true, value: parsed };
}

export class TcpConnection implements RuleConnection {
  private readonly context: ConnectionContext;
  /** Dropped once the relay owns the pair, so a spliced connection keeps no socket alive. */
  private client: Socket | null;
  private pending: PendingConnect | null = null;
  private relay: RelayHandle | null = null;
  private finished = false;
  /** Cut before its relay started because its owner's quota ran out (counted once). */
  private quotaCut = false;
  /** The QoS owner entity this connection was admitted under (the rule may change owner later). */
  private qosOwner = -1;

  get quotaOwner(): number {
    return this.qosOwner;
  }
  /** The port of the listen range this connection came in on (targets map by its offset). */
  private readonly listenPort: number;

  constructor(context: ConnectionContext, client: Socket) {
    this.context = context;
    this.client = client;
    this.listenPort = client.localPort ?? context.rule.listen.portLo;
  }

  start(): void {
    const { counters, row, qos, qosRule, qosOwner } = this.context.accounts;
    const client = this.client!;
    const refused = qos.admit(qosOwner, qosRule);
    if (refused !== null) {
      // Over a connection cap or rate: closed at accept, before any target is tried. TCP rules
      // have no flow cap, so max_flows never refuses here.
      counters.add(row, refused === 'rule_max_flows' ? FIELD.FLOWS_DROPPED : rejectField(refused), 1);
      this.finished = true;
      this.context.connectionClosed(this);
      client.on('error', onPendingClientError);
      client.resetAndDestroy();
      return;
    }
    this.qosOwner = qosOwner;
    counters.add(row, FIELD.TOTAL, 1);
    counters.add(row, FIELD.ACTIVE, 1);
    client.on('error', onPendingClientError);
    client.once('close', this.onClientGoneEarly);
    this.run(client).catch((error: unknown) => {
      // A bug, not a peer's doing: this connection ends, the shard goes on.
      this.context.log('error', 'connection setup failed', { err: String(error) });
      this.client?.resetAndDestroy();
    });
  }

  cutForQuota(): void {
    if (this.relay !== null) {
      this.relay.quotaSpent();
      return;
    }
    // Still connecting or reading its prelude: nothing was relayed, it is refused as it stands.
    if (this.finished || this.quotaCut) return;
    this.quotaCut = true;
    this.context.accounts.counters.add(this.context.accounts.row, rejectField('quota_exhausted'), 1);
    this.destroy();
  }

  destroy(): void {
    if (this.relay) this.relay.destroy();
    else {
      this.pending?.abort();
      this.client?.resetAndDestroy();
    }
  }

  private async run(client: Socket): Promise<void> {
    const rule = this.context.rule;
    let buffered: Buffer = EMPTY;
    let source: ProxyEndpoint = { address: client.remoteAddress ?? '', port: client.remotePort ?? 0 };
    const destination: ProxyEndpoint = { address: client.localAddress ?? '', port: this.listenPort };

    if (rule.acceptProxy) {
      const read = await readPrelude(client, EMPTY, proxyVerdict, MAX_PROXY_HEADER_BYTES, PRELUDE_TIMEOUT_MS);
      if (this.finished) return;
      if (read.kind === 'closed') return this.reject(null); // went away before saying anything
      if (read.kind !== 'done' || read.value.kind !== 'ok') return this.reject('proxy_header_invalid');
      buffered = read.bytes.subarray(read.value.headerLength);
      // The load balancer's client is the client from here on; LOCAL (a health check) is not.
      if (read.value.command === 'proxy' && read.value.source !== null) source = read.value.source;
    }

    let targets = this.context.targets.list;
    let routed = false;
    const sni = this.context.sni;
    if (sni !== null) {
      const read = await readPrelude(
        client,
        buffered,
        helloVerdict,
        MAX_CLIENT_HELLO_BYTES,
        PRELUDE_TIMEOUT_MS,
      );
      if (this.finished) return;
      if (read.kind === 'closed') return this.reject(null);
      if (read.kind !== 'done' || read.value.kind !== 'ok') return this.reject('sni_parse_error');
      buffered = read.bytes;
      const target = sni.route(read.value.serverName);
      if (target !== null) {
        targets = [target];
        routed = true;
      } else if (targets.length === 0) {
        return this.reject('sni_miss');
      }
    }
    if (targets.length === 0) return this.reject('no_target');

    const upstream = await this.connectFirst(targets, routed);
    if (this.finished) {
      upstream?.destroy();
      return;
    }
    if (upstream === null) {
      client.resetAndDestroy();
      return;
    }

    // Until the relay takes over, a failing upstream must not be an unhandled 'error'.
    upstream.on('error', onPendingClientError);
    const readFromClient = rule.acceptProxy || sni !== null;
    const header =
      rule.proxyProtocol === 'off' ? EMPTY : encodeProxyHeader(rule.proxyProtocol, source, destination);
    let out: Buffer = header.length === 0 ? buffered : Buffer.concat([header, buffered]);
    let payload = buffered.length;
    while (out.length > 0) {
      // Client bytes replayed here are relayed bytes like any other: counted, and charged to
      // the inbound bandwidth caps (the relay then waits out any debt they leave).
      this.countReplayed(payload);
      const failed = await write(upstream, out);
      if (this.finished || failed) {
        upstream.destroy();
        client.resetAndDestroy();
        return;
      }
      // A client that was read from may have sent more while we connected; it waits in the
      // socket's buffer. Replay it too, until nothing is left in JS (the splice path needs
      // that). A client never read from has nothing there, and read() would start reading it.
      out = readFromClient ? ((client.read() as Buffer | null) ?? EMPTY) : EMPTY;
      payload = out.length;
    }
    upstream.removeListener('error', onPendingClientError);
    this.startRelay(upstream);
  }

  /**
   * Tries the targets in the order target health gives (an SNI route is one target), each
   * address of a name in turn. Returns the connected socket, or null when every attempt failed
   * or this host ran out of descriptors for the upstream socket (not the target's fault).
   */
  private async connectFirst(targets: readonly TargetSpec[], routed: boolean): Promise<Socket | null> {
    const { rule, targets: health, dns } = this.context;
    const { counters, row } = this.context.accounts;
    const order = routed ? [0] : health.order();
    for (let attempt = 0; attempt < order.length; attempt++) {
      const index = order[attempt]!;
      const target = targets[index]!;
      const port = targetPort(target, rule.listen, this.listenPort);
      let addresses: string[];
      try {
        addresses = await dns.resolve(target.host, rule.preferIpv6);
      } catch {
        addresses = [];
        counters.add(row, connectErrorField('unreachable'), 1);
      }
      if (this.finished) return null;
      for (const address of addresses) {
        const { errno, socket } = await this.connect(address, port);
        if (this.finished) {
          socket?.destroy();
          return null;
        }
        if (socket !== null) {
          if (!routed) {
            health.succeeded(index);
            if (attempt > 0) health.failedOver();
          }
          return socket;
        }
        const exhausted = acceptErrorReason(errno!);
        if (exhausted !== null) {
          this.context.acceptFailed(exhausted, errno!);
          return null;
        }
        counters.add(row, connectErrorField(connectErrorReason(errno!)), 1);
      }
      if (!routed) health.failed(index);
    }
    return null;
  }

  private connect(host: string, port: number): Promise<{ errno: string | null; socket: Socket | null }> {
    return new Promise((resolve) => {
      this.pending = connectTarget(host, port, this.context.rule.connectTimeoutMs, (errno, socket) => {
        this.pending = null;
        resolve({ errno, socket });
      });
    });
  }

  private countReplayed(bytes: number): void {
    if (bytes === 0) return;
    const { counters, row, qos, qosRule } = this.context.accounts;
    counters.add(row, FIELD.BYTES_IN, bytes);
    if (qos.bandwidthCapped(this.qosOwner, qosRule, QOS_FIELD.BANDWIDTH_IN)) {
      qos.chargeBytes(this.qosOwner, qosRule, QOS_FIELD.BANDWIDTH_IN, bytes);
    }
    // A prelude is a few KiB at most: it is taken from the quota even past its end, and the
    // relay then finds the quota spent.
    qos.takeQuota(this.qosOwner, bytes);
  }

  /** Closes the client before any target; counts why (null: it left on its own, nothing to count). */
  private reject(reason: RejectReason | null): void {
    if (reason !== null)
      this.context.accounts.counters.add(this.context.accounts.row, rejectField(reason), 1);
    this.client?.resetAndDestroy();
  }

  private startRelay(upstream: Socket): void {
    const client = this.client!;
    this.client = null;
    client.removeListener('error', onPendingClientError);
    client.removeListener('close', this.onClientGoneEarly);
    const { counters, row, qos, qosRule } = this.context.accounts;
    this.relay = this.context.relayPath(client, upstream, {
      counters,
      row,
      qos,
      qosRule,
      qosOwner: this.qosOwner,
      halfCloseTimeoutMs: this.context.rule.halfCloseTimeoutMs,
      onClose: this.finish,
      onSpliceRefused: this.context.spliceRefused,
    });
  }

  private readonly onClientGoneEarly = (): void => {
    this.pending?.abort();
    this.finish();
  };

  private readonly finish = (failure: RelayFailure | null = null): void => {
    if (this.finished) return;
    this.finished = true;
    const { counters, row, qos, qosRule } = this.context.accounts;
    if (failure !== null) this.context.relayFailed(failure.reason, failure.errno);
    // Give the QoS places back before the gauge drops: the supervisor reuses a rule slot (and
    // resets its QoS entity) once the gauge reads zero.
    qos.release(this.qosOwner, qosRule);
    counters.add(row, FIELD.ACTIVE, -1);
    this.context.connectionClosed(this);
  };
}

/** Resolves once `bytes` are handed to the kernel: false, or true when the write failed. */
function write(socket: Socket, bytes: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    socket.write(bytes, (error) => resolve(error != null));
  });
}

// Before the relay owns the client, an error (a reset while we connect) just ends it; 'close'
// follows and is handled there.
function onPendingClientError(): void {}
