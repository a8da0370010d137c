// Public face of @sluice/splice. Nothing loads at import: the binding is loaded on the first
// spliceStatus(), loadSplice() or probeBind() call of each thread (a shard loads its own copy on
// its own event loop), and the outcome is kept for that thread.

import { constants } from 'node:os';
import { type LoadResult, loadBinding } from './loader.ts';
import type {
  NativeBinding,
  NativeSplice,
  SpliceCounterFields,
  SplicePipeLimits,
  SpliceQosLayout,
} from './native.ts';

export { BINARY_CANDIDATES, LOAD_CHANNEL, type LoadAttempt } from './loader.ts';
export type {
  AcceptBudgetOffsets,
  AcceptGroupOptions,
  AcceptTarget,
  NativeAccept,
  NativeSplice,
  SpliceCloseReason,
  SpliceCloseResult,
  SpliceCounterFields,
  SpliceOnClose,
  SplicePipeLimits,
  SpliceQosLayout,
  SpliceRelayOptions,
  SpliceStats,
} from './native.ts';
export {
  ACCEPT_EVENT,
  ACCEPT_EVENT_WORDS,
  ACCEPT_NO_RELAY,
  ACCEPT_VERDICT,
  CLOSE_REASONS,
} from './native.ts';
export { type PipeBudgetSource, pipeBudgetPages } from './pipe-budget.ts';
export type { NativeUdp, UdpCounterFields, UdpFlowEvent } from './udp-native.ts';

export interface SpliceStatus {
  readonly enabled: boolean;
  /** Why it is (or is not) enabled, for the start-up log, the metric and `--version`. */
  readonly reason: string;
}

let loaded: LoadResult | undefined;
let splice: NativeSplice | null | undefined;

function load(): LoadResult {
  loaded ??= loadBinding();
  return loaded;
}

function wrap(binding: NativeBinding): NativeSplice {
  return Object.freeze({
    init: (
      counters: SharedArrayBuffer,
      fields: SpliceCounterFields,
      qos?: SpliceQosLayout,
      pipes?: SplicePipeLimits,
    ) => {
      if (qos === undefined) return binding.init(new BigInt64Array(counters), fields, undefined, pipes);
      const { buffer, ...offsets } = qos;
      return binding.init(
        new BigInt64Array(counters),
        fields,
        { words: new BigInt64Array(buffer), ...offsets },
        pipes,
      );
    },
    relay: binding.relay,
    destroy: binding.destroy,
    stats: binding.stats,
    udpListen: binding.udpListen,
    udpOpen: binding.udpOpen,
    udpEnd: binding.udpEnd,
    udpExpire: binding.udpExpire,
    udpClose: binding.udpClose,
    udpCountDrops: binding.udpCountDrops,
    udpReceiveBuffer: binding.udpReceiveBuffer,
    accept: Object.freeze({
      group: binding.acceptGroup,
      configure: binding.acceptConfigure,
      listen: binding.acceptListen,
      targets: binding.acceptTargets,
      close: binding.acceptClose,
      destroy: binding.acceptDestroy,
      dispose: binding.acceptDispose,
      budget: binding.acceptBudget,
    }),
  });
}

/** Whether this thread relays TCP through splice(2), and why (loads the binding if not yet). */
export function spliceStatus(): SpliceStatus {
  const { enabled, reason } = load();
  return { enabled, reason };
}

/** The splice relay for this thread, or null when disabled (spliceStatus() says why). */
export function loadSplice(): NativeSplice | null {
  if (splice === undefined) {
    const { binding } = load();
    splice = binding ? wrap(binding) : null;
  }
  return splice;
}

/**
 * The addon's port probe (native.ts `probeBind`): 0 or the negated errno; null when the addon is
 * off in this thread (not built, or SLUICE_NO_SPLICE=1), and the caller probes with node:net.
 */
export function probeBind(host: string, port: number, udp: boolean): number | null {
  const { binding } = load();
  return binding ? binding.probeBind(host, port, udp) : null;
}

const ERRNO_NAMES = new Map<number, string>(
  Object.entries(constants.errno).map(([name, value]) => [value, name]),
);

export type NotifyResult = { readonly sent: true } | { readonly sent: false; readonly reason: string };

/**
 * sd_notify(3): sends `message` (`READY=1`, `MAINPID=...`) to $NOTIFY_SOCKET. The binary is
 * loaded for this even under SLUICE_NO_SPLICE=1, which turns off the relay only: a unit of
 * Type=notify that never hears READY=1 fails its start.
 */
export function systemdNotify(message: string, env: NodeJS.ProcessEnv = process.env): NotifyResult {
  const socket = env.NOTIFY_SOCKET;
  if (socket === undefined || socket === '') return { sent: false, reason: 'NOTIFY_SOCKET is not set' };
  const { binding, reason } = loaded?.binding
    ? loaded
    : loadBinding({ env: { ...env, SLUICE_NO_SPLICE: '' } });
  if (!binding) return { sent: false, reason: `the splice addon did not load: ${reason}` };
  const errno = binding.sdNotify(socket, message);
  if (errno === 0) return { sent: true };
  return { sent: false, reason: `sendto ${socket}: ${spliceErrnoCode(errno)}` };
}

/** Maps an errno (as in onClose, or the negation of a failed relay() result) to its code. */
export function spliceErrnoCode(errno: number): string {
  const value = Math.abs(errno);
  return ERRNO_NAMES.get(value) ?? `errno ${value}`;
}
