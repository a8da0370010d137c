// What a UDP rule does the same on either path (udp-rule.ts on node:dgram, udp-native-rule.ts
// on the addon): its life as a ShardRule (bind every port or none, update, unbind), the idle
// sweep, quota cuts, what a failed upstream socket means, and the kernel's receive-buffer drops
// (read every DROPS_INTERVAL_MS into the rule's counters). Each path keeps its own sockets and
// flows.

import type { RuleSpec } from '@sluice/config';
import { rejectField } from '@sluice/counters';
import { BurstLog } from './burst-log.ts';
import type { DnsCache } from './dns-cache.ts';
import type { CoreErrorData } from './errors.ts';
import { bindEveryPort } from './port-map.ts';
import type { RuleAccounts } from './relay-path.ts';
import { RuleTargets } from './rule-targets.ts';
import type { ShardRule, ShardServices } from './shard-rule.ts';
import { udpProbe } from './target-probe.ts';
import { IdleSweep } from './udp-sweep.ts';
import { countUdpTargetError } from './udp-target-error.ts';

/**
 * How often the kernel's drop counts are read. A counter, so a scrape sees drops this late at
 * most; each read is a syscall per socket (addon) or a read of /proc/net/udp (node:dgram).
 */
const DROPS_INTERVAL_MS = 1000;

export abstract class UdpRuleBase<Flow extends { readonly qosOwner: number }> implements ShardRule {
  rule: RuleSpec;
  protected readonly accounts: RuleAccounts;
  protected qosOwner: number;
  protected readonly targets: RuleTargets;
  protected readonly dns: DnsCache;
  private readonly burst: BurstLog;
  private readonly sweep = new IdleSweep(() => this.endIdleFlows());
  private dropsTimer: NodeJS.Timeout | null = null;
  private readonly log: ShardServices['log'];

  constructor(rule: RuleSpec, accounts: RuleAccounts, services: ShardServices) {
    this.rule = rule;
    this.accounts = accounts;
    this.qosOwner = accounts.qosOwner;
    this.dns = services.dns;
    this.burst = new BurstLog(services.log);
    this.log = services.log;
    this.targets = new RuleTargets(rule, accounts.counters, accounts.row, services.dns, udpProbe);
  }

  /** Binds every port of the listen, or none: the first port that fails is named. */
  async bind(): Promise<CoreErrorData | null> {
    const error = await bindEveryPort(
      this.rule.listen,
      (port) => this.bindPort(port),
      () => this.unbind(),
    );
    if (error) return error;
    this.sweep.start(this.rule.idleTimeoutMs);
    this.dropsTimer = setInterval(() => this.countDrops(), DROPS_INTERVAL_MS);
    this.dropsTimer.unref();
    this.checkReceiveBuffer();
    return null;
  }

  /**
   * Without CAP_NET_ADMIN (or on node:dgram, which has no SO_RCVBUFFORCE) the kernel caps the
   * receive buffer at net.core.rmem_max: say so once, with both sizes, so the operator can raise it.
   */
  private checkReceiveBuffer(): void {
    const asked = this.rule.udpReceiveBufferBytes;
    const granted = this.grantedReceiveBuffer();
    if (granted === null || granted >= asked) return;
    this.log('warn', 'the kernel granted a smaller UDP receive buffer than udp_receive_buffer asks for', {
      rule: this.rule.name,
      asked_bytes: asked,
      granted_bytes: granted,
      hint: 'raise net.core.rmem_max, or run the edge with CAP_NET_ADMIN and the splice addon',
    });
  }

  update(rule: RuleSpec, qosOwner: number): void {
    this.rule = rule;
    this.qosOwner = qosOwner;
    this.targets.update(rule);
    this.sweep.update(rule.idleTimeoutMs);
  }

  /**
   * Replies leave through the listening socket, so a UDP rule cannot stop listening and go on
   * relaying: unbinding ends its flows with it.
   */
  unbind(): void {
    // The last drops are read before the sockets (and the kernel's counts) go.
    this.countDrops();
    if (this.dropsTimer !== null) clearInterval(this.dropsTimer);
    this.dropsTimer = null;
    this.closeConnections();
    this.sweep.stop();
    this.closeSockets();
    this.targets.stop();
  }

  closeConnections(): void {
    for (const flow of this.openFlows()) this.endFlow(flow);
    this.burst.stop();
  }

  cutOverQuota(): void {
    const { qos, counters, row } = this.accounts;
    for (const flow of this.openFlows()) {
      if (!qos.quotaExhausted(flow.qosOwner)) continue;
      counters.add(row, rejectField('quota_exhausted'), 1);
      this.endFlow(flow);
    }
  }

  /** The flow's upstream socket failed with `code`: the host's trouble ends it, a target's fails it over. */
  protected upstreamFailed(flow: Flow, code: string | undefined): void {
    if (countUdpTargetError(this.accounts, this.burst, this.rule, code)) this.endFlow(flow);
    else this.targetFailed(flow);
  }

  protected abstract bindPort(port: number): Promise<CoreErrorData | null>;
  /** Adds what the kernel dropped on the rule's sockets since the last call to RECEIVE_BUFFER_DROPS. */
  abstract countDrops(): void;
  /** The smallest receive buffer the kernel granted a listening socket, in bytes; null before bind. */
  abstract grantedReceiveBuffer(): number | null;
  protected abstract closeSockets(): void;
  protected abstract endIdleFlows(): void;
  /** A copy: ending a flow takes it out of the table. */
  protected abstract openFlows(): Flow[];
  protected abstract endFlow(flow: Flow): void;
  /** The flow's target refused it: move on to the next target, or end. */
  protected abstract targetFailed(flow: Flow): void;
}
