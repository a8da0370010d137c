// The PROXY protocol wire layout (HAProxy's proxy-protocol.txt, versions 1 and 2), shared by the
// encoder and the decoder so the two can never disagree on a byte.
//
// v1: one US-ASCII line, at most 107 bytes with its CRLF:
//   "PROXY" SP ("TCP4" | "TCP6") SP src SP dst SP srcport SP dstport CRLF
//   "PROXY" SP "UNKNOWN" [SP anything] CRLF
// v2: a 16-byte fixed part, then `length` bytes (addresses, then TLVs):
//   signature(12) | version<<4 | command (1) | family<<4 | transport (1) | length (2, BE)
//   AF_INET:  src(4) dst(4) srcport(2) dstport(2)    = 12 bytes
//   AF_INET6: src(16) dst(16) srcport(2) dstport(2)  = 36 bytes
//   AF_UNIX:  src(108) dst(108)                      = 216 bytes
//   TLV:      type(1) length(2, BE) value(length)

/** The first bytes of a v1 header, up to and including the space after "PROXY". */
export const V1_PREFIX = Buffer.from('PROXY ', 'latin1');

/** The longest v1 line the spec lets a sender write, CRLF included ("PROXY UNKNOWN" + two IPv6 + ports). */
export const V1_MAX_BYTES = 107;

/** The 12 bytes every v2 header starts with; chosen by the spec to look like no common protocol. */
export const V2_SIGNATURE = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);

export const V2_OFFSET_VERSION_COMMAND = 12;
export const V2_OFFSET_FAMILY = 13;
export const V2_OFFSET_LENGTH = 14;
/** Size of the fixed part; the whole header is this plus the length field. */
export const V2_FIXED_BYTES = 16;

export const V2_VERSION = 0x2;
export const V2_COMMAND_LOCAL = 0x0;
export const V2_COMMAND_PROXY = 0x1;

// The 14th byte, address family in the high nibble and transport in the low one. Only these
// seven combinations are defined; every other value must be rejected by a receiver.
export const V2_UNSPEC = 0x00;
export const V2_TCP4 = 0x11;
export const V2_UDP4 = 0x12;
export const V2_TCP6 = 0x21;
export const V2_UDP6 = 0x22;
export const V2_UNIX_STREAM = 0x31;
export const V2_UNIX_DGRAM = 0x32;

/** Bytes of the address block for each family byte (UNSPEC carries none the receiver can read). */
export const V2_ADDRESS_BYTES: ReadonlyMap<number, number> = new Map([
  [V2_UNSPEC, 0],
  [V2_TCP4, 12],
  [V2_UDP4, 12],
  [V2_TCP6, 36],
  [V2_UDP6, 36],
  [V2_UNIX_STREAM, 216],
  [V2_UNIX_DGRAM, 216],
]);

/** A TLV's type byte and 16-bit length before its value. */
export const V2_TLV_HEADER_BYTES = 3;
