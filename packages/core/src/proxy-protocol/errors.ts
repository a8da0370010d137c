// Errors of the PROXY header encoder: one stable code per way a header cannot be written, with
// its message template. A header that arrives malformed is not an error here: the decoder
// returns { kind: 'invalid', reason } and the caller counts it (reject reason
// proxy_header_invalid).

import { defineErrors, type SluiceError } from '@sluice/errors';

export const PROXY_HEADER_ERRORS = defineErrors('proxy_header', {
  proxy_version_invalid: { message: 'PROXY protocol version {version} is not v1 or v2' },
  proxy_transport_invalid: { message: 'PROXY header transport {protocol} is not tcp or udp' },
  proxy_v1_udp: { message: 'PROXY protocol v1 can only describe TCP; a UDP header needs v2' },
  proxy_address_invalid: {
    message: 'PROXY header {side} address "{address}" is not an IPv4 or IPv6 address',
  },
  proxy_port_invalid: { message: 'PROXY header {side} port {port} is not an integer in 0..65535' },
});

export type ProxyHeaderErrorCode = (typeof PROXY_HEADER_ERRORS.codes)[number];

/** What encodeProxyHeader throws; `toData()` is what crosses a thread. */
export type ProxyHeaderError = SluiceError<ProxyHeaderErrorCode>;
