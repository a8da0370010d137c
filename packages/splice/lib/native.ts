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
}

export const BINDING_EXPORTS = ['init', 'relay', 'destroy', 'stats', ...UDP_BINDING_EXPORTS] as const;
