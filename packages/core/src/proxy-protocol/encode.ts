// Writes the PROXY header a relay sends to its target before any payload: the client as
// source, the address the client connected to as destination.
//
// Families: Node reports peers of a dual-stack listener as IPv4-mapped IPv6 ("::ffff:1.2.3.4").
// When both ends are IPv4 or mapped IPv4 the header is IPv4 (TCP4, AF_INET), which is what the
// target would have seen without a relay in between. When one end is IPv6 proper, a header has
// to name one family for both, so the IPv4 end goes out in its mapped form (TCP6 / AF_INET6).

import {
  addressBytes,
  formatIPv4,
  formatIPv6,
  isMappedIPv4,
  mapIPv4,
  type ProxyEndpoint,
} from './address.ts';
import { PROXY_HEADER_ERRORS } from './errors.ts';
import {
  V2_COMMAND_PROXY,
  V2_FIXED_BYTES,
  V2_OFFSET_FAMILY,
  V2_OFFSET_LENGTH,
  V2_OFFSET_VERSION_COMMAND,
  V2_SIGNATURE,
  V2_TCP4,
  V2_TCP6,
  V2_UDP4,
  V2_UDP6,
  V2_VERSION,
} from './header-layout.ts';

export type ProxyVersion = 'v1' | 'v2';
export type ProxyTransport = 'tcp' | 'udp';

const V2_FAMILY = {
  ipv4: { tcp: V2_TCP4, udp: V2_UDP4 },
  ipv6: { tcp: V2_TCP6, udp: V2_UDP6 },
} as const;

export interface EncodeProxyHeaderOptions {
  /** What the relayed flow is; 'udp' needs v2 (v1 has no way to say it). Default 'tcp'. */
  readonly protocol?: ProxyTransport;
}

/**
 * The header announcing a connection from `source` to `destination`. Throws a SluiceError
 * (codes in PROXY_HEADER_ERRORS) for an address that is not an IP literal, a port outside
 * 0..65535, or UDP with v1.
 */
export function encodeProxyHeader(
  version: ProxyVersion,
  source: ProxyEndpoint,
  destination: ProxyEndpoint,
  options: EncodeProxyHeaderOptions = {},
): Buffer {
  const protocol = options.protocol ?? 'tcp';
  if (version !== 'v1' && version !== 'v2')
    throw PROXY_HEADER_ERRORS.error('proxy_version_invalid', { version });
  if (protocol !== 'tcp' && protocol !== 'udp')
    throw PROXY_HEADER_ERRORS.error('proxy_transport_invalid', { protocol });
  if (version === 'v1' && protocol === 'udp') throw PROXY_HEADER_ERRORS.error('proxy_v1_udp');
  let src = endpointBytes('source', source);
  let dst = endpointBytes('destination', destination);
  // Both IPv4 (mapped ones included) stay IPv4; one IPv6 end takes the other to IPv6.
  if (src.length !== dst.length) {
    src = src.length === 4 ? mapIPv4(src) : src;
    dst = dst.length === 4 ? mapIPv4(dst) : dst;
  }
  const ipv4 = src.length === 4;
  if (version === 'v1') {
    const family = ipv4 ? 'TCP4' : 'TCP6';
    const text = (bytes: Buffer) => (ipv4 ? formatIPv4(bytes, 0) : formatIPv6(bytes, 0));
    const line = `PROXY ${family} ${text(src)} ${text(dst)} ${source.port} ${destination.port}\r\n`;
    return Buffer.from(line, 'latin1');
  }
  const addressBlock = 2 * src.length + 4;
  const out = Buffer.alloc(V2_FIXED_BYTES + addressBlock);
  V2_SIGNATURE.copy(out, 0);
  out[V2_OFFSET_VERSION_COMMAND] = (V2_VERSION << 4) | V2_COMMAND_PROXY;
  out[V2_OFFSET_FAMILY] = V2_FAMILY[ipv4 ? 'ipv4' : 'ipv6'][protocol];
  out.writeUInt16BE(addressBlock, V2_OFFSET_LENGTH);
  src.copy(out, V2_FIXED_BYTES);
  dst.copy(out, V2_FIXED_BYTES + src.length);
  out.writeUInt16BE(source.port, V2_FIXED_BYTES + 2 * src.length);
  out.writeUInt16BE(destination.port, V2_FIXED_BYTES + 2 * src.length + 2);
  return out;
}

/** The endpoint's address as 4 bytes (IPv4 or mapped IPv4) or 16 (IPv6), its port checked. */
function endpointBytes(side: 'source' | 'destination', endpoint: ProxyEndpoint): Buffer {
  const { address, port } = endpoint;
  if (!Number.isInteger(port) || port < 0 || port > 0xffff)
    throw PROXY_HEADER_ERRORS.error('proxy_port_invalid', { side, port: String(port) });
  const bytes = typeof address === 'string' ? addressBytes(address) : null;
  if (bytes === null)
    throw PROXY_HEADER_ERRORS.error('proxy_address_invalid', { side, address: String(address) });
  return bytes.length === 16 && isMappedIPv4(bytes) ? bytes.subarray(12) : bytes;
}
