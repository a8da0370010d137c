// Errnos to the `reason` labels the counters keep (their lists live with the counters layout).

import type { AcceptErrorReason, ConnectErrorReason, RelayErrorReason } from '@sluice/counters';

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

/**
 * The errnos that say this host, not the target, is out of a resource a new connection needs.
 * Met on a listener (accept) or on the first socket a connection opens after it (the upstream),
 * they count as accept errors: the target is not to blame.
 */
export function acceptErrorReason(errno: string | undefined): AcceptErrorReason | null {
  switch (errno) {
    case 'EMFILE':
      return 'emfile';
    case 'ENFILE':
      return 'enfile';
    case 'ENOMEM':
    case 'ENOBUFS':
      return 'enomem';
    default:
      return null;
  }
}

/** A relayed connection's error: a reset (ECONNRESET, EPIPE) names the side it came from. */
export function relayErrorReason(side: 'client' | 'upstream', errno: string | undefined): RelayErrorReason {
  if (errno === 'ECONNRESET' || errno === 'EPIPE')
    return side === 'client' ? 'client_reset' : 'upstream_reset';
  return 'error';
}
