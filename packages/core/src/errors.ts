// The data plane's error table: one stable code per failure an operator can see, with the
// message template and where it shows. Errors cross threads as plain data (CoreErrorData).

export const CORE_ERRORS = {
  port_in_use: { message: 'address {listen} is already in use by another socket', kind: 'bind' },
  permission_denied: { message: 'not permitted to bind {listen} (ports below 1024 need CAP_NET_BIND_SERVICE)', kind: 'bind' },
  address_unavailable: { message: 'address {listen} is not an address of this host', kind: 'bind' },
  bind_failed: { message: 'could not bind {listen}: {detail}', kind: 'bind' },
  shard_unavailable: { message: 'shard {shard} did not answer within {ms} ms', kind: 'bind' },
  rule_capacity_exceeded: { message: 'at most {capacity} rules can be active at once', kind: 'bind' },
  owner_capacity_exceeded: { message: 'at most {capacity} distinct owners can have rules at once', kind: 'bind' },
} as const;

export type CoreErrorCode = keyof typeof CORE_ERRORS;

export interface CoreErrorData {
  readonly code: CoreErrorCode;
  readonly message: string;
  readonly details?: Readonly<Record<string, string | number>>;
}

export function coreError(code: CoreErrorCode, details: Record<string, string | number> = {}): CoreErrorData {
  const message = CORE_ERRORS[code].message.replace(/\{(\w+)\}/g, (_, key: string) =>
    key in details ? String(details[key]) : `{${key}}`,
  );
  return { code, message, details };
}

/** Maps a bind errno to the code an operator sees in Failed(reason). */
export function bindErrorCode(errno: string | undefined): CoreErrorCode {
  switch (errno) {
    case 'EADDRINUSE':
      return 'port_in_use';
    case 'EACCES':
    case 'EPERM':
      return 'permission_denied';
    case 'EADDRNOTAVAIL':
      return 'address_unavailable';
    default:
      return 'bind_failed';
  }
}

/** Why a connect to a target failed; the `reason` label of sluice_rule_connect_errors_total. */
export const CONNECT_ERROR_REASONS = ['refused', 'timeout', 'unreachable', 'reset', 'other'] as const;
export type ConnectErrorReason = (typeof CONNECT_ERROR_REASONS)[number];

export function connectErrorReason(errno: string | undefined): ConnectErrorReason {
  switch (errno) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ETIMEDOUT':
      return 'timeout';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'unreachable';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'reset';
    default:
      return 'other';
  }
}

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
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];
