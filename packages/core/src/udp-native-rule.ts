// A UDP rule on the native flow path (packages/splice/src/udp-relay.h): the addon owns the
// listening sockets and the flows' upstream sockets and moves datagrams in batches, counting
// and charging caps itself. This side keeps what JS decides, once per flow rather than per
// datagram: admission (max_flows, quota), the target order and its health, DNS, the PROXY v2
// header, failover on an ICMP error, idle expiry and quota cuts. It behaves as udp-rule.ts (the
// JS path, kept for SLUICE_NO_SPLICE=1 and when the addon does not load); the e2e suites run
// every UDP test on both.

import { constants } from 'node:os';
import type { RuleSpec } from '@sluice/config';
import { connectErrorField, FIELD, rejectField, UDP_COUNTER_FIELDS } from '@sluice/counters';
import { type NativeUdp, spliceErrnoCode, type UdpFlowEvent } from '@sluice/splice';
import type { CoreErrorData } from './errors.ts';
import { nativeBindError } from './errors.ts';
import { targetPort } from './port-map.ts';
import { encodeProxyHeader } from './proxy-protocol/index.ts';
import type { RuleAccounts } from './relay-path.ts';
import type { ShardServices } from './shard-rule.ts';
import { UdpRuleBase } from './udp-rule-base.ts';

interface NativeListener {
  /** The addon's listener id (0 until it is bound). */
  id: number;
  readonly port: number;
  readonly flows: Map<number, NativeFlow>;
}

interface NativeFlow {
  readonly id: number;
  readonly listener: NativeListener;
  readonly qosOwner: number;
  readonly order: number[];
  attempt: number;
  /** The target has not replied yet: an ICMP error moves the flow on with what it holds. */
  holding: boolean;
  readonly proxyHeader: Buffer | undefined;
  ended: boolean;
}

export class NativeUdpRule extends UdpRuleBase<NativeFlow> {
  private readonly native: NativeUdp;
  private listeners: NativeListener[] = [];

  constructor(rule: RuleSpec, accounts: RuleAccounts, services: ShardServices, native: NativeUdp) {
    super(rule, accounts, services);
    this.native = native;
  }

  protected closeSockets(): void {
    for (const listener of this.listeners) this.native.udpClose(listener.id);
    this.listeners = [];
  }

  protected openFlows(): NativeFlow[] {
    return this.listeners.flatMap((listener) => [...listener.flows.values()]);
  }

  protected async bindPort(port: number): Promise<CoreErrorData | null> {
    const host = this.rule.listen.host;
    const listener: NativeListener = { id: 0, port, flows: new Map() };
    const id = this.native.udpListen(
      host,
      port,
      this.accounts.row,
      UDP_COUNTER_FIELDS,
      this.accounts.qosRule,
      this.rule.udpReceiveBufferBytes,
      (events) => this.onEvents(listener, events),
    );
    if (id < 0) return nativeBindError('bind', spliceErrnoCode(id), host, port);
    listener.id = id;
    this.listeners.push(listener);
    return null;
  }

  countDrops(): void {
    for (const listener of this.listeners) this.native.udpCountDrops(listener.id);
  }

  grantedReceiveBuffer(): number | null {
    const sizes = this.listeners
      .map((listener) => this.native.udpReceiveBuffer(listener.id))
      .filter((n) => n > 0);
    return sizes.length === 0 ? null : Math.min(...sizes);
  }

  protected endIdleFlows(): void {
    for (const listener of this.listeners) {
      for (const id of this.native.udpExpire(listener.id, this.rule.idleTimeoutMs)) {
        const flow = listener.flows.get(id);
        if (flow !== undefined) this.forget(flow);
      }
    }
  }

  private onEvents(listener: NativeListener, events: readonly UdpFlowEvent[]): void {
    for (const event of events) {
      if (event.type === 'new') {
        this.admit(listener, event.flow, event.address, event.port);
        continue;
      }
      const flow = listener.flows.get(event.flow);
      if (flow === undefined || flow.ended) continue;
      if (event.type === 'answered') {
        // The first reply: this target is up.
        if (flow.holding) this.targets.succeeded(flow.order[flow.attempt]!);
        flow.holding = false;
      } else {
        this.upstreamFailed(flow, spliceErrnoCode(event.errno));
      }
    }
  }

  private admit(listener: NativeListener, id: number, address: string, port: number): void {
    const { counters, row, qos, qosRule } = this.accounts;
    const refused = qos.admit(this.qosOwner, qosRule, undefined, this.rule.maxFlows);
    if (refused !== null) {
      counters.add(row, refused === 'rule_max_flows' ? FIELD.FLOWS_DROPPED : rejectField(refused), 1);
      this.native.udpEnd(listener.id, id);
      return;
    }
    const proxyHeader =
      this.rule.proxyProtocol === 'v2'
        ? encodeProxyHeader(
            'v2',
            { address, port },
            { address: this.rule.listen.host, port: listener.port },
            { protocol: 'udp' },
          )
        : undefined;
    const flow: NativeFlow = {
      id,
      listener,
      qosOwner: this.qosOwner,
      order: this.targets.order(),
      attempt: 0,
      holding: true,
      proxyHeader,
      ended: false,
    };
    listener.flows.set(id, flow);
    counters.add(row, FIELD.TOTAL, 1);
    counters.add(row, FIELD.ACTIVE_FLOWS, 1);
    this.openUpstream(flow);
  }

  /** Connects the flow to the target its order is at; the addon sends what it holds. */
  private openUpstream(flow: NativeFlow): void {
    const target = this.rule.targets[flow.order[flow.attempt]!]!;
    const port = targetPort(target, this.rule.listen, flow.listener.port);
    this.dns.resolve(target.host, this.rule.preferIpv6).then(
      (addresses) => {
        if (flow.ended) return;
        const result = this.native.udpOpen(
          flow.listener.id,
          flow.id,
          addresses[0]!,
          port,
          flow.proxyHeader,
          flow.qosOwner,
        );
        if (result === -constants.errno.ENOENT) this.forget(flow);
        else if (result < 0) this.upstreamFailed(flow, spliceErrnoCode(result));
      },
      () => {
        this.accounts.counters.add(this.accounts.row, connectErrorField('unreachable'), 1);
        this.targetFailed(flow);
      },
    );
  }

  /**
   * The flow's target refused it. Before its first reply the flow moves on to the next target
   * with what it holds; after it (or with no target left) the flow ends.
   */
  protected targetFailed(flow: NativeFlow): void {
    this.targets.failed(flow.order[flow.attempt]!);
    if (!flow.holding || flow.attempt + 1 >= flow.order.length) {
      this.endFlow(flow);
      return;
    }
    flow.attempt++;
    if (flow.attempt === 1) this.targets.failedOver();
    this.openUpstream(flow);
  }

  protected endFlow(flow: NativeFlow): void {
    if (flow.ended) return;
    this.native.udpEnd(flow.listener.id, flow.id);
    this.forget(flow);
  }

  /** The addon has ended the flow (or is told to): its admission is given back. */
  private forget(flow: NativeFlow): void {
    if (flow.ended) return;
    flow.ended = true;
    flow.listener.flows.delete(flow.id);
    const { counters, row, qos, qosRule } = this.accounts;
    qos.release(flow.qosOwner, qosRule);
    counters.add(row, FIELD.ACTIVE_FLOWS, -1);
  }
}
