// The data plane's error table: one stable code per failure an operator can see, with its
// message template. Errors cross threads as plain data (CoreErrorData, from CORE_ERRORS.data).

import { formatHostPort } from '@sluice/config/address';
import { defineErrors, type SluiceErrorData } from '@sluice/errors';

export const CORE_ERRORS = defineErrors('core', {
  port_in_use: { message: 'address {listen} is already in use by another socket' },
  permission_denied: {
    message: 'not permitted to bind {listen} (ports below 1024 need CAP_NET_BIND_SERVICE)',
  },
  address_unavailable: { message: 'address {listen} is not an address of this host' },
  bind_failed: { message: 'could not bind {listen}: {detail}' },
  shard_unavailable: { message: 'shard {shard} did not answer within {ms} ms' },
  rule_capacity_exceeded: { message: 'at most {capacity} rules can be active at once' },
  owner_capacity_exceeded: { message: 'at most {capacity} distinct owners can have rules at once' },
});

export type CoreErrorCode = (typeof CORE_ERRORS.codes)[number];

export type CoreErrorData = SluiceErrorData<CoreErrorCode>;

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

/** The error for a failed bind of one port: the code from the errno, the port named. */
export function bindError(err: NodeJS.ErrnoException, host: string, port: number): CoreErrorData {
  return CORE_ERRORS.data(bindErrorCode(err.code), {
    listen: formatHostPort(host, port),
    detail: err.message,
  });
}

/**
 * The same for a bind the addon made: `code` is the errno's name (spliceErrnoCode), and the
 * detail reads as Node's own (`listen EADDRINUSE 127.0.0.1:80`).
 */
export function nativeBindError(
  call: 'bind' | 'listen',
  code: string,
  host: string,
  port: number,
): CoreErrorData {
  return CORE_ERRORS.data(bindErrorCode(code), {
    listen: formatHostPort(host, port),
    detail: `${call} ${code} ${host}:${port}`,
  });
}
