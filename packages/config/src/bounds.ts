// The bounds a config's numbers must sit within. Apart from the schema (schema.ts) so that a
// thread which only reads a validated config (the edge's main thread: its command-line checks)
// gets them without loading zod.

export const MAX_TARGETS = 8;
export const MAX_SHARDS = 256;
/**
 * The most an edge's `max_connections` may be: 2^30, above any descriptor limit Linux allows
 * (fs.nr_open), and within the 32-bit word the shards count connections in.
 */
export const MAX_EDGE_CONNECTIONS = 2 ** 30;
export const MAX_CONNECT_TIMEOUT_MS = 600_000;
/** A UDP flow costs a socket per shard; the cap keeps a typo from exhausting descriptors. */
export const MAX_FLOWS = 1_048_576;
// Node timers fire at once past 2^31-1 ms (about 24.8 days); a day is already far beyond any
// sensible drain or idle time, so larger values are surely mistakes.
export const MAX_TIMEOUT_SECS = 86_400;
/**
 * UDP: SO_RCVBUF of a rule's sockets. The default holds about 40 ms of 1 Gbit/s in 1400-byte
 * datagrams (the kernel charges about 2.3 KiB for each and doubles what it is asked for), so a
 * GC pause or a busy shard does not overflow it; the kernel's own default (212992 bytes) holds
 * about 1 ms. Below 4 KiB the kernel raises it anyway; above 1 GiB the doubled size overflows
 * the kernel's int.
 */
export const DEFAULT_UDP_RECEIVE_BUFFER = 4 * 1024 ** 2;
export const MIN_UDP_RECEIVE_BUFFER = 4 * 1024;
export const MAX_UDP_RECEIVE_BUFFER = 1024 ** 3;
