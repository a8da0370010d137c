// The `reason` label values of the per-reason counters. A reason's index in its list is its word
// in a counters row (counters-layout.ts), so a list only ever grows at its end, within the words
// the layout gives it.

/** Why a connect to a target failed; the `reason` label of sluice_rule_connect_errors_total. */
export const CONNECT_ERROR_REASONS = ['refused', 'timeout', 'unreachable', 'reset', 'other'] as const;
export type ConnectErrorReason = (typeof CONNECT_ERROR_REASONS)[number];

/** Why a connection was closed at accept; the `reason` label of sluice_rule_rejected_total. */
export const REJECT_REASONS = [
  'rule_max_connections',
  'rule_connection_rate',
  'owner_max_connections',
  'owner_connection_rate',
  'no_target',
  'sni_miss',
  'sni_parse_error',
  'proxy_header_invalid',
  /** The owner's monthly quota on this edge is spent: refused, and live connections cut. */
  'quota_exhausted',
  /**
   * node:net paths only: the edge held max_connections and as many connections waiting for a
   * place as its descriptors allow; reset at once rather than run it out of descriptors.
   */
  'edge_max_connections',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/**
 * Why a connection could not be taken in; the `reason` label of sluice_rule_accept_errors_total.
 * `emfile` / `enfile`: the process or the system ran out of file descriptors; `enomem`: the
 * kernel had no memory or buffers for it (ENOMEM, ENOBUFS).
 */
export const ACCEPT_ERROR_REASONS = ['emfile', 'enfile', 'enomem', 'other'] as const;
export type AcceptErrorReason = (typeof ACCEPT_ERROR_REASONS)[number];

/**
 * Why a relayed connection ended in an error rather than a clean close; the `reason` label of
 * sluice_rule_relay_errors_total. The splice addon's close reasons, and the JS relay's socket
 * errors mapped the same way: a reset (ECONNRESET, EPIPE) on one side, or any other errno; and
 * `idle_timeout`: a half-closed pair silent for half_close_timeout, which the edge resets.
 */
export const RELAY_ERROR_REASONS = ['client_reset', 'upstream_reset', 'error', 'idle_timeout'] as const;
export type RelayErrorReason = (typeof RELAY_ERROR_REASONS)[number];
