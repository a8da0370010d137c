// The typed contract of the splice addon: what build/Release/sluice_splice.node exports
// (NativeBinding) and what this package hands to the data plane (NativeSplice). The binding is
// per thread: each worker that loads it gets its own relays, pipe pool and counters view.

import { type NativeUdp, UDP_BINDING_EXPORTS } from './udp-native.ts';

/** Why a relay closed. `errno` is set for the resets, `error` and `unsupported`. */
export type SpliceCloseReason =
  | 'eof' // both directions ended with FIN and every byte was delivered
  | 'client_reset' // ECONNRESET / EPIPE on the client socket; the upstream was reset in turn
  | 'upstream_reset' // ECONNRESET / EPIPE on the upstream socket; the client was reset in turn
  | 'error' // any other errno; both sides reset
  | 'idle_timeout' // one direction ended, the other moved nothing and held nothing for halfCloseTimeoutMs; both reset
  | 'destroyed' // destroy(id)
  | 'quota_exhausted' // the owner's monthly quota ran out (init's quota words); both reset
  | 'unsupported'; // splice(2) refused the sockets (EINVAL, ENOSYS, EOPNOTSUPP) before a byte moved

export interface SpliceCloseResult {
  readonly reason: SpliceCloseReason;
  /** 0, or the errno behind the reason (ECONNRESET, EPIPE, ETIMEDOUT, ...). */
  readonly errno: number;
  /** Bytes delivered client -> upstream. */
  readonly bytesIn: number;
  /** Bytes delivered upstream -> client. */
  readonly bytesOut: number;
}

/** The longest halfCloseTimeoutMs relay() takes (a day, as config's bound); addon.cc checks the same. */
export const MAX_HALF_CLOSE_TIMEOUT_MS = 86_400_000;

export interface SpliceRelayOptions {
  /**
   * Once one direction ended, reset the pair after this long with no byte moved and none waiting
   * (in a pipe, for a pipe, or in a socket's send queue); 0 = never. At most MAX_HALF_CLOSE_TIMEOUT_MS.
   */
  readonly halfCloseTimeoutMs: number;
  /**
   * First word of the connection's owner and rule entities in the QoS buffer given to init()
   * (omitted or -1: none). A direction whose bandwidth bucket in either is capped reads at most
   * the tokens both grant, and waits on a timer when they have none.
   */
  readonly qosOwner?: number;
  readonly qosRule?: number;
}

/** Word offsets, within a counters row, of the counters the relay adds to. */
export interface SpliceCounterFields {
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Nanoseconds a direction spent waiting for bandwidth tokens. */
  readonly throttledNsIn: number;
  readonly throttledNsOut: number;
  /** Urgent (MSG_OOB) bytes stepped over, both directions: they are not part of the stream. */
  readonly urgentBytes: number;
  /** Times a direction found no pipe (EMFILE, ENFILE, ENOMEM) and waited on a timer to retry. */
  readonly pipeWaits: number;
}

/**
 * The QoS buffer and where bandwidth buckets sit in it (from packages/qos/src/qos-layout.ts; the
 * addon repeats no layout of its own). Offsets of bandwidthIn/Out are from an entity's first
 * word; rate, limitNs and tatNs from a bucket's first word; quotaCapped and quotaLeft (the owner's
 * monthly quota) from an owner entity's first word.
 */
export interface SpliceQosLayout {
  readonly buffer: SharedArrayBuffer;
  readonly bandwidthIn: number;
  readonly bandwidthOut: number;
  readonly rate: number;
  readonly limitNs: number;
  readonly tatNs: number;
  readonly quotaCapped: number;
  readonly quotaLeft: number;
}

/** The pipe buffer this thread may hold, from pipeBudgetPages(). */
export interface SplicePipeLimits {
  /** Pages (0: no limit). New pipes and the pool are sized to stay within it. */
  readonly budgetPages: number;
}

export interface SpliceStats {
  /** Relays open on this thread. */
  readonly relays: number;
  /** Pipes held by a direction with bytes in flight. */
  readonly pipesInUse: number;
  /** Empty pipes kept for reuse. */
  readonly pipesPooled: number;
  /** Bytes of pipe buffer held, in use and pooled (what the budget counts). */
  readonly pipeBytes: number;
}

export type SpliceOnClose = (result: SpliceCloseResult) => void;

export type SpliceRelayFn = (
  clientFd: number,
  upstreamFd: number,
  row: number,
  options: SpliceRelayOptions,
  onClose: SpliceOnClose,
) => number;

/** The close reasons in the order of the addon's CloseReason (relay.h): accept events carry the index. */
export const CLOSE_REASONS: readonly SpliceCloseReason[] = [
  'eof',
  'client_reset',
  'upstream_reset',
  'error',
  'idle_timeout',
  'destroyed',
  'unsupported',
  'quota_exhausted',
];

/**
 * Event records of the native connection path, ACCEPT_EVENT_WORDS int32 each: [kind, a, b, c]
 * (accept-path.h holds the same numbers).
 */
export const ACCEPT_EVENT = {
  /** a = owner entity, b = index into CLOSE_REASONS (ACCEPT_NO_RELAY: no relay ran), c = errno. */
  CLOSED: 1,
  /** a = target index, b = errno (ETIMEDOUT when the connect timeout ran out). */
  CONNECT_FAILED: 2,
  /** a = target index, b = the attempt (0: the first target tried). */
  CONNECTED: 3,
  /** a = errno: this host ran out of descriptors or memory for a new connection. */
  ACCEPT_FAILED: 4,
} as const;
export const ACCEPT_EVENT_WORDS = 4;
export const ACCEPT_NO_RELAY = -1;

/** What onAccept writes for a connection instead of the owner entity it admitted it under. */
export const ACCEPT_VERDICT = {
  /** Reset it (refused, or no target). */
  REFUSE: -1,
  /** JS took the descriptor (verdicts[batch + i]) into a socket of its own. */
  TAKEN_BY_JS: -2,
} as const;

export interface AcceptGroupOptions {
  /** Counter row of the rule on this shard, as for relay(). */
  readonly row: number;
  /** QoS entity of the rule. */
  readonly qosRule: number;
  readonly halfCloseTimeoutMs: number;
  /** 0: no timeout. */
  readonly connectTimeoutMs: number;
}

/** Where the edge's connection budget sits in its Int32Array: word offsets. */
export interface AcceptBudgetOffsets {
  /** The most connections the edge holds at once (0: no limit). */
  readonly limit: number;
  /** Connections the edge holds now, over every thread. */
  readonly open: number;
  /** Times a listener found the edge at its limit: the addon adds one when a listener pauses for it. */
  readonly reached: number;
  /** Those this thread holds. */
  readonly mine: number;
}

/** A target as the native path connects to it: an IP literal and a port. */
export interface AcceptTarget {
  readonly host: string;
  readonly port: number;
}

/**
 * One rule's connection path in the addon: listening sockets accepted natively, each batch of
 * new connections admitted by `onAccept`, the upstream connected in the target order JS gives,
 * and the pair relayed by splice(2). What happened is told through `events`, once per loop turn.
 */
export interface NativeAccept {
  /**
   * `onAccept(listener, count)`: for each i < count, write into `verdicts[i]` the owner entity the
   * connection is admitted under, or an ACCEPT_VERDICT; its descriptor is `verdicts[batch + i]`
   * (batch = verdicts.length / 2). Write the target order into `order` ([count, index...]).
   * `onEvents(count)`: read `count` records from `events`. All three arrays view
   * SharedArrayBuffers. Answers the group id.
   */
  group(
    onAccept: (listener: number, count: number) => void,
    onEvents: (count: number) => void,
    verdicts: Int32Array,
    order: Int32Array,
    events: Int32Array,
    options: AcceptGroupOptions,
  ): number;
  /** New options for connections accepted from now on. */
  configure(group: number, options: AcceptGroupOptions): void;
  /** Binds (SO_REUSEPORT) and listens: the listener id (> 0), or -errno. */
  listen(group: number, host: string, port: number, targets: readonly AcceptTarget[]): number;
  /** New targets for connections this listener accepts from now on. */
  targets(listener: number, targets: readonly AcceptTarget[]): void;
  /** Stops accepting and closes the listening socket; its connections go on. */
  close(listener: number): void;
  /** Closes every connection of the group now; with an owner entity, cuts that owner's for its spent quota. */
  destroy(group: number, owner?: number): void;
  /** No more calls but destroy(): the group is freed once its last connection has been told. */
  dispose(group: number): void;
  /**
   * The edge's connection budget, for every listener of this thread: before each accept the
   * addon adds one to `open` and `mine` (atomics), unless `open` has reached `limit`; then the
   * listener pauses, rechecking every few ms, and new connections wait in the kernel's backlog.
   * The caller takes one off both when the connection ends (a refusal, a closed event, or the
   * end of a connection it took over as a socket). `words` views a SharedArrayBuffer.
   */
  budget(words: Int32Array, offsets: AcceptBudgetOffsets): void;
}

/** The data plane's view of the splice path (what loadSplice() returns). */
export interface NativeSplice extends NativeUdp {
  /**
   * Once per thread, before relay() and never while a relay is open: the counters
   * SharedArrayBuffer (BigInt64 words; the binding refuses one that can grow) and where
   * bytes in / out sit in a row. The relay adds to word `row + fields.bytesIn` (client -> upstream)
   * and `row + fields.bytesOut` with atomics, at least every 64 KiB and at close.
   */
  init(
    counters: SharedArrayBuffer,
    fields: SpliceCounterFields,
    qos?: SpliceQosLayout,
    pipes?: SplicePipeLimits,
  ): void;
  /**
   * Takes over a connected pair. The descriptors are duplicated (F_DUPFD_CLOEXEC) and made
   * non-blocking; afterwards the caller destroys its own sockets (which closes only its
   * descriptors). Bytes must not be waiting in the sockets' JS buffers: nothing read yet, and
   * any write (PROXY header, replayed ClientHello) already flushed.
   *
   * Returns the relay id (> 0), and `onClose` follows exactly once, from the event loop.
   * Returns -errno (< 0) when nothing was taken over and `onClose` will never be called: the
   * descriptors could not be duplicated (EMFILE, EBADF), or splice(2) refused these sockets
   * (EINVAL, ENOSYS, EOPNOTSUPP) on the first try, before any byte moved. The caller's sockets
   * are then untouched: fall back to the JS relay with them.
   */
  relay: SpliceRelayFn;
  /**
   * Closes both sides now (drain timeout, rule removed); onClose follows with 'destroyed'.
   * With 'quota' (the owner's quota ran out): reads no more, delivers what was read, then
   * resets both sides; onClose follows with 'quota_exhausted'. Unknown ids are ignored.
   */
  destroy(id: number, how?: 'quota'): void;
  stats(): SpliceStats;
  /** The native connection path (accept-path.h). */
  readonly accept: NativeAccept;
}

/** Exactly what the compiled binding exports. */
export interface NativeBinding extends NativeUdp {
  /** `counters` and `qos.words` are BigInt64Array views over the SharedArrayBuffers. */
  init(
    counters: BigInt64Array,
    fields: SpliceCounterFields,
    qos?: Omit<SpliceQosLayout, 'buffer'> & { readonly words: BigInt64Array },
    pipes?: SplicePipeLimits,
  ): void;
  relay: SpliceRelayFn;
  destroy(id: number, how?: 'quota'): void;
  stats(): SpliceStats;
  acceptGroup: NativeAccept['group'];
  acceptConfigure: NativeAccept['configure'];
  acceptListen: NativeAccept['listen'];
  acceptTargets: NativeAccept['targets'];
  acceptClose: NativeAccept['close'];
  acceptDestroy: NativeAccept['destroy'];
  acceptDispose: NativeAccept['dispose'];
  acceptBudget: NativeAccept['budget'];
  /** One datagram `message` to the unix socket `path` (`@name`: abstract); 0, or the errno. */
  sdNotify(path: string, message: string): number;
  /**
   * Binds `host`:`port` once without SO_REUSEPORT (TCP: and listens), then closes: 0, or the
   * negated errno (EADDRINUSE while any socket holds the address). port-probe.h says why.
   */
  probeBind(host: string, port: number, udp: boolean): number;
}

export const BINDING_EXPORTS = [
  'init',
  'relay',
  'destroy',
  'stats',
  'acceptGroup',
  'acceptConfigure',
  'acceptListen',
  'acceptTargets',
  'acceptClose',
  'acceptDestroy',
  'acceptDispose',
  'acceptBudget',
  'sdNotify',
  'probeBind',
  ...UDP_BINDING_EXPORTS,
] as const;
