// The DNS area's error table: what a resolve of a target's name rejects with.

import { defineErrors, type SluiceError } from '@sluice/errors';

export const DNS_ERRORS = defineErrors('dns', {
  dns_not_found: { message: 'target {host}: the name has no IPv4 or IPv6 address' },
  dns_timeout: { message: 'target {host}: no answer from the DNS server in time' },
  dns_failed: { message: 'target {host}: resolving the name failed ({reason})' },
});

export type DnsErrorCode = (typeof DNS_ERRORS.codes)[number];

/** What a resolve rejects with; `toData()` is what crosses a thread. */
export type DnsError = SluiceError<DnsErrorCode>;
