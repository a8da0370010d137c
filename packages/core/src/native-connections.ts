// A TCP rule's connections on the native connection path: the addon accepts on the rule's
// listening sockets, connects and splices; this side admits each batch of new connections
// through the QoS table (the one admission there is), hands over the target order from target
// health, and settles what the addon tells it once per loop turn: connects that failed or
// succeeded (counters, health), accept errors, and connections that ended (QoS places given
// back, the gauge, relay errors). A connection the rule can no longer take natively (a reload
// gave it SNI routes, accept_proxy, a PROXY header out or a DNS-name target) is handed to JS
// as a socket, so the rule keeps its listeners across such a reload.

import { Socket } from 'node:net';
import type { RuleSpec } from '@sluice/config';
import { connectErrorField, FIELD, rejectField } from '@sluice/counters';
import {
  ACCEPT_EVENT,
  ACCEPT_EVENT_WORDS,
  ACCEPT_NO_RELAY,
  ACCEPT_VERDICT,
  type AcceptTarget,
  CLOSE_REASONS,
  type NativeAccept,
  spliceErrnoCode,
} from '@sluice/splice';
import type { ConnectionContext } from './connection-context.ts';
import type { ConnectionGate } from './connection-gate.ts';
import { acceptErrorReason, connectErrorReason } from './errno-reasons.ts';
import { addonReadsAddress } from './native-address.ts';
import { targetPort } from './port-map.ts';
import { spliceFailure } from './splice-relay.ts';

/**
 * The thread is exiting: the addon's own cleanup resets what the groups hold. One listener for
 * the thread, not one per rule: a listener per group was never removed and warned past 10 rules.
 */
let threadExiting = false;
process.once('exit', () => {
  threadExiting = true;
});

/** Connections accepted per batch (one call into JS admits them all). */
const BATCH = 64;
/** Event records the addon hands over per call. */
const EVENTS_PER_CALL = 256;
/** The order array: a count, then at most this many target indices (config allows 8). */
const MAX_ORDER = 64;

function sharedInt32(length: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(length * Int32Array.BYTES_PER_ELEMENT));
}

/**
 * The arrays the addon and JS exchange a batch through, one set for every group of the thread.
 * The addon fills them just before it calls a group's onAccept or onEvents and reads them just
 * after, and it calls JS only from its own loop callbacks, so two calls never overlap. A set per
 * group cost about 5 KiB and three SharedArrayBuffers a rule: 50 MiB per shard and a third of its
 * bind time at 10,000 rules.
 */
interface Exchange {
  readonly verdicts: Int32Array;
  readonly order: Int32Array;
  readonly events: Int32Array;
}

let exchange: Exchange | null = null;

function threadExchange(): Exchange {
  exchange ??= {
    verdicts: sharedInt32(2 * BATCH),
    order: sharedInt32(1 + MAX_ORDER),
    events: sharedInt32(EVENTS_PER_CALL * ACCEPT_EVENT_WORDS),
  };
  return exchange;
}

/**
 * Whether the native path can carry the rule's connections from accept to splice: nothing of
 * the client's first bytes must be read (SNI, accept_proxy), nothing written first (a PROXY
 * header), and the addon reads every address (native-address.ts).
 */
export function nativeEligible(rule: RuleSpec): boolean {
  return (
    rule.sni === null &&
    !rule.acceptProxy &&
    rule.proxyProtocol === 'off' &&
    addonReadsAddress(rule.listen.host) &&
    rule.targets.every((target) => addonReadsAddress(target.host))
  );
}

/**
 * A socket over an accepted descriptor, not reading until asked: `pauseOnCreate` is the option
 * net.Server itself passes for `pauseOnConnect` (Node's net.js; not in its typings).
 */
function socketFor(fd: number): Socket {
  const options = { fd, allowHalfOpen: true, pauseOnCreate: true };
  return new Socket(options);
}

export class NativeConnections {
  private readonly native: NativeAccept;
  private readonly context: ConnectionContext;
  /** Called with a socket made from a descriptor the rule can no longer take natively. */
  private readonly takeOver: (socket: Socket) => void;
  /** Every accepted connection took a place in the budget in the addon; it is given back here. */
  private readonly gate: ConnectionGate;
  private readonly group: number;
  private readonly verdicts: Int32Array;
  private readonly order: Int32Array;
  private readonly events: Int32Array;
  /** Listener id -> the port it listens on (targets map by the listen port's offset). */
  private readonly listeners = new Map<number, number>();
  /** Owner entity -> connections admitted under it and not yet ended (for quota cuts). */
  private readonly owners = new Map<number, number>();
  private disposed = false;
  constructor(
    native: NativeAccept,
    context: ConnectionContext,
    takeOver: (socket: Socket) => void,
    gate: ConnectionGate,
  ) {
    this.native = native;
    this.context = context;
    this.takeOver = takeOver;
    this.gate = gate;
    ({ verdicts: this.verdicts, order: this.order, events: this.events } = threadExchange());
    this.group = native.group(
      this.onAccept,
      this.onEvents,
      this.verdicts,
      this.order,
      this.events,
      this.options(),
    );
  }

  /** Binds one port of the listen: null, or the errno code it failed with. */
  listen(port: number): string | null {
    const rule = this.context.rule;
    const id = this.native.listen(this.group, rule.listen.host, port, this.targetsFor(port));
    if (id < 0) return spliceErrnoCode(id);
    this.listeners.set(id, port);
    return null;
  }

  update(): void {
    if (this.disposed) return;
    this.native.configure(this.group, this.options());
    // A rule that left the native path hands its new connections to JS, which resolves names.
    if (!nativeEligible(this.context.rule)) return;
    for (const [id, port] of this.listeners) this.native.targets(id, this.targetsFor(port));
  }

  /** Stops accepting; connections go on and are still told. */
  unbind(): void {
    if (this.disposed) return;
    for (const id of this.listeners.keys()) this.native.close(id);
    this.listeners.clear();
    this.disposed = true;
    this.native.dispose(this.group);
  }

  closeConnections(): void {
    if (!threadExiting) this.native.destroy(this.group);
  }

  cutOverQuota(): void {
    const { qos } = this.context.accounts;
    for (const [owner, open] of this.owners) {
      if (open > 0 && qos.quotaExhausted(owner) && !threadExiting) this.native.destroy(this.group, owner);
    }
  }

  private options() {
    const { rule, accounts } = this.context;
    return {
      row: accounts.row,
      qosRule: accounts.qosRule,
      halfCloseTimeoutMs: rule.halfCloseTimeoutMs,
      connectTimeoutMs: rule.connectTimeoutMs,
    };
  }

  private targetsFor(port: number): AcceptTarget[] {
    const { rule } = this.context;
    return rule.targets.map((target) => ({ host: target.host, port: targetPort(target, rule.listen, port) }));
  }

  private readonly onAccept = (_listener: number, count: number): void => {
    const { rule, targets } = this.context;
    if (!nativeEligible(rule)) {
      // Each keeps its place: the connection gives it back when it ends (tcp-rule.ts).
      for (let i = 0; i < count; i++) {
        this.verdicts[i] = ACCEPT_VERDICT.TAKEN_BY_JS;
        this.takeOver(socketFor(this.verdicts[BATCH + i]!));
      }
      return;
    }
    const order = targets.order();
    const listed = Math.min(order.length, MAX_ORDER);
    this.order[0] = listed;
    for (let i = 0; i < listed; i++) this.order[1 + i] = order[i]!;
    const { counters, row, qos, qosRule, qosOwner } = this.context.accounts;
    const noTarget = targets.list.length === 0;
    for (let i = 0; i < count; i++) {
      const refused = qos.admit(qosOwner, qosRule);
      if (refused !== null) {
        // TCP rules have no flow cap: max_flows never refuses here (as in tcp-connection.ts).
        counters.add(row, refused === 'rule_max_flows' ? FIELD.FLOWS_DROPPED : rejectField(refused), 1);
        this.verdicts[i] = ACCEPT_VERDICT.REFUSE;
        this.gate.release();
        continue;
      }
      counters.add(row, FIELD.TOTAL, 1);
      counters.add(row, FIELD.ACTIVE, 1);
      if (noTarget) {
        // As on the JS path: admitted, then closed before any target for want of one.
        counters.add(row, rejectField('no_target'), 1);
        this.ended(qosOwner);
        this.verdicts[i] = ACCEPT_VERDICT.REFUSE;
        continue;
      }
      this.owners.set(qosOwner, (this.owners.get(qosOwner) ?? 0) + 1);
      this.verdicts[i] = qosOwner;
    }
  };

  private readonly onEvents = (count: number): void => {
    const events = this.events;
    for (let i = 0; i < count; i++) {
      const at = i * ACCEPT_EVENT_WORDS;
      const a = events[at + 1]!;
      const b = events[at + 2]!;
      switch (events[at]) {
        case ACCEPT_EVENT.CLOSED:
          this.closed(a, b, events[at + 3]!);
          break;
        case ACCEPT_EVENT.CONNECT_FAILED: {
          const { counters, row } = this.context.accounts;
          counters.add(row, connectErrorField(connectErrorReason(spliceErrnoCode(b))), 1);
          this.context.targets.failed(a);
          break;
        }
        case ACCEPT_EVENT.CONNECTED:
          this.context.targets.succeeded(a);
          if (b > 0) this.context.targets.failedOver();
          break;
        case ACCEPT_EVENT.ACCEPT_FAILED: {
          const code = spliceErrnoCode(a);
          this.context.acceptFailed(acceptErrorReason(code) ?? 'other', code);
          break;
        }
      }
    }
  };

  private closed(owner: number, reasonIndex: number, errno: number): void {
    const reason = reasonIndex === ACCEPT_NO_RELAY ? null : (CLOSE_REASONS[reasonIndex] ?? 'error');
    if (reason === 'quota_exhausted') {
      const { counters, row } = this.context.accounts;
      counters.add(row, rejectField('quota_exhausted'), 1);
    }
    const failure = reason === null ? null : spliceFailure({ reason, errno, bytesIn: 0, bytesOut: 0 });
    if (failure !== null) this.context.relayFailed(failure.reason, failure.errno);
    const open = (this.owners.get(owner) ?? 1) - 1;
    if (open > 0) this.owners.set(owner, open);
    else this.owners.delete(owner);
    this.ended(owner);
  }

  /**
   * Gives the QoS places back, then drops the gauge (the supervisor reuses a slot at zero), and
   * gives the connection's place in the edge's budget back.
   */
  private ended(owner: number): void {
    const { counters, row, qos, qosRule } = this.context.accounts;
    qos.release(owner, qosRule);
    counters.add(row, FIELD.ACTIVE, -1);
    this.gate.release();
  }
}
