// PROXY protocol v1/v2: the header a relay writes to its target (encode) and the one a load
// balancer in front writes to the relay (decode).

export type { ProxyEndpoint } from './address.ts';
export { MAX_PROXY_HEADER_BYTES, type ProxyParse, parseProxyHeader } from './decode.ts';
export {
  type EncodeProxyHeaderOptions,
  encodeProxyHeader,
  type ProxyTransport,
  type ProxyVersion,
} from './encode.ts';
export { PROXY_HEADER_ERRORS, type ProxyHeaderError, type ProxyHeaderErrorCode } from './errors.ts';
