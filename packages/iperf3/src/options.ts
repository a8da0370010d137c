// Client options to iperf3's command line, validated first: a bad option is an Iperf3Error that
// names it, never an iperf3 that exits with its usage text. Pure, so it is tested without
// running iperf3.

import { IPERF3_ERRORS } from './errors.ts';

/** A bitrate as iperf3's -b takes it: bits per second, or `100M`, `2.5G`; 0 / 'unlimited' is none. */
export type Iperf3Bitrate = number | string;

export interface Iperf3ClientOptions {
  /** Server address; default 127.0.0.1. */
  readonly host?: string;
  readonly port: number;
  /** -t, seconds of measured traffic (after the omitted ones); default 10. */
  readonly seconds?: number;
  /** -O, seconds at the start left out of the figures (slow start); default 0. */
  readonly omitSeconds?: number;
  /** -b, per stream; default unlimited for TCP and 1M (iperf3's own) for UDP. */
  readonly bitrate?: Iperf3Bitrate;
  /** -P, parallel streams; default 1. */
  readonly parallel?: number;
  /** -R, the server sends. */
  readonly reverse?: boolean;
  /** -u, UDP. */
  readonly udp?: boolean;
  /** -l, bytes per write (TCP) or per datagram (UDP). */
  readonly length?: number;
  /**
   * -w, bytes: SO_SNDBUF and SO_RCVBUF of the data sockets, the server's included (iperf3 hands
   * it over). The kernel caps it at net.core.rmem_max / wmem_max; default: the kernel's.
   */
  readonly socketBuffer?: number;
  /** --connect-timeout, milliseconds; default 3000. */
  readonly connectTimeoutMs?: number;
}

const UNITS: Readonly<Record<string, number>> = { '': 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/** `2.5G` -> 2.5e9 bits per second; 0 and 'unlimited' -> 0. Throws iperf3_bad_option. */
export function parseBitrate(value: Iperf3Bitrate): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) {
      throw IPERF3_ERRORS.error('iperf3_bad_option', {
        option: 'bitrate',
        reason: `not a bitrate: ${value}`,
      });
    }
    return value;
  }
  if (value === 'unlimited') return 0;
  const match = /^(\d+(?:\.\d+)?)([KMGT]?)$/i.exec(value.trim());
  if (match === null) {
    throw IPERF3_ERRORS.error('iperf3_bad_option', {
      option: 'bitrate',
      reason: `"${value}" is not a bitrate (a number with an optional K, M, G or T, or "unlimited")`,
    });
  }
  return Number(match[1]) * UNITS[match[2]!.toUpperCase()]!;
}

/** 2.5e9 -> `2.5G`; 0 -> `unlimited`: how tables name an offered load. */
export function formatBitrate(bitsPerSecond: number): string {
  if (bitsPerSecond === 0) return 'unlimited';
  for (const unit of ['T', 'G', 'M', 'K'] as const) {
    const scaled = bitsPerSecond / UNITS[unit]!;
    if (scaled >= 1) return `${Number(scaled.toPrecision(4))}${unit}`;
  }
  return String(bitsPerSecond);
}

function wholeNumber(option: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw IPERF3_ERRORS.error('iperf3_bad_option', {
      option,
      reason: `expected a whole number from ${min} to ${max}, got ${value}`,
    });
  }
}

export const DEFAULT_SECONDS = 10;
export const DEFAULT_CONNECT_TIMEOUT_MS = 3000;
/** iperf3 refuses a -w above 512 MiB. */
const MAX_SOCKET_BUFFER = 512 * 1024 * 1024;

/** The iperf3 arguments for one client run with a JSON report (-J). */
export function iperf3ClientArgs(options: Iperf3ClientOptions): string[] {
  wholeNumber('port', options.port, 1, 65_535);
  wholeNumber('seconds', options.seconds, 1, 86_400);
  wholeNumber('omitSeconds', options.omitSeconds, 0, 600);
  wholeNumber('parallel', options.parallel, 1, 128);
  wholeNumber('length', options.length, 1, 1 << 20);
  wholeNumber('connectTimeoutMs', options.connectTimeoutMs, 1, 600_000);
  wholeNumber('socketBuffer', options.socketBuffer, 1, MAX_SOCKET_BUFFER);
  if (options.udp && options.length !== undefined && options.length > 65_507) {
    throw IPERF3_ERRORS.error('iperf3_bad_option', {
      option: 'length',
      reason: `a UDP datagram carries at most 65507 bytes, got ${options.length}`,
    });
  }
  const args = [
    '-c',
    options.host ?? '127.0.0.1',
    '-p',
    String(options.port),
    '-t',
    String(options.seconds ?? DEFAULT_SECONDS),
    '-J',
    '--connect-timeout',
    String(options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS),
  ];
  if (options.omitSeconds) args.push('-O', String(options.omitSeconds));
  if (options.udp) args.push('-u');
  if (options.bitrate !== undefined) args.push('-b', String(parseBitrate(options.bitrate)));
  if (options.parallel !== undefined && options.parallel > 1) args.push('-P', String(options.parallel));
  if (options.reverse) args.push('-R');
  if (options.length !== undefined) args.push('-l', String(options.length));
  if (options.socketBuffer !== undefined) args.push('-w', String(options.socketBuffer));
  return args;
}
