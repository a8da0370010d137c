// Listen and target addresses: `host:port`, `host:lo-hi` and `[v6]:port`. Hosts are stored
// lower-cased and without brackets, so two spellings of one address compare equal.

import { isIPv4, isIPv6 } from 'node:net';
import type { ListenSpec, TargetSpec } from './types.ts';

export const MIN_PORT = 1;
export const MAX_PORT = 65535;
/** A range binds one socket per port per shard; this keeps a typo from opening thousands. */
export const MAX_PORT_RANGE = 1024;

const MAX_DNS_NAME = 253;
const MAX_DNS_LABEL = 63;
// Underscores are not legal in host names by RFC 952, but container runtimes (compose
// service names) resolve them, and refusing a name that works would only get in the way.
const DNS_LABEL = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$/;
const DIGITS = /^\d+$/;

interface HostPorts {
  readonly host: string;
  readonly ports: { readonly lo: number; readonly hi: number } | null;
}

/**
 * Why `name` is not a DNS host name, or null when it is one. A trailing dot (fully
 * qualified form) is accepted.
 */
export function dnsNameProblem(name: string): string | null {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  if (bare === '') return 'the host name is empty';
  if (bare.length > MAX_DNS_NAME) return `host name is longer than ${MAX_DNS_NAME} characters`;
  const labels = bare.toLowerCase().split('.');
  // A name ending in a numeric label can only have been meant as an IPv4 address.
  if (DIGITS.test(labels[labels.length - 1]!)) {
    return `${JSON.stringify(name)} is not a valid IPv4 address`;
  }
  for (const label of labels) {
    if (label === '') return `host name ${JSON.stringify(name)} has an empty label`;
    if (label.length > MAX_DNS_LABEL) {
      return `label ${JSON.stringify(label)} of host name ${JSON.stringify(name)} is longer than ${MAX_DNS_LABEL} characters`;
    }
    if (!DNS_LABEL.test(label)) {
      return `host name ${JSON.stringify(name)} is not valid: label ${JSON.stringify(label)} may hold only letters, digits, "-" and "_", and may not start or end with "-"`;
    }
  }
  return null;
}

function parseHost(host: string, bracketed: boolean): string {
  if (bracketed) {
    if (!isIPv6(host)) throw new RangeError(`[${host}] is not a valid IPv6 address`);
    // A zone (`%eth0`) names an interface, whose name is case-sensitive.
    const zone = host.indexOf('%');
    return zone === -1 ? host.toLowerCase() : host.slice(0, zone).toLowerCase() + host.slice(zone);
  }
  if (host.includes(':')) {
    throw new RangeError(`IPv6 addresses must be in brackets, e.g. "[${host}]:8080"`);
  }
  if (isIPv4(host)) return host;
  const problem = dnsNameProblem(host);
  if (problem !== null) throw new RangeError(problem);
  return host.toLowerCase();
}

function parsePort(text: string): number {
  if (!DIGITS.test(text)) throw new RangeError(`${JSON.stringify(text)} is not a port number`);
  const port = Number(text);
  if (port < MIN_PORT || port > MAX_PORT) {
    throw new RangeError(`port ${text} is out of range ${MIN_PORT}-${MAX_PORT}`);
  }
  return port;
}

function parsePorts(text: string): { lo: number; hi: number } {
  const dash = text.indexOf('-');
  if (dash === -1) {
    const port = parsePort(text);
    return { lo: port, hi: port };
  }
  const lo = parsePort(text.slice(0, dash));
  const hi = parsePort(text.slice(dash + 1));
  if (lo > hi) throw new RangeError(`port range ${lo}-${hi} is inverted`);
  const width = hi - lo + 1;
  if (width > MAX_PORT_RANGE) {
    throw new RangeError(`port range ${lo}-${hi} has ${width} ports; at most ${MAX_PORT_RANGE} are allowed`);
  }
  return { lo, hi };
}

function parseHostPorts(text: string): HostPorts {
  if (/\s/.test(text)) throw new RangeError(`${JSON.stringify(text)} contains whitespace`);
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close === -1) throw new RangeError(`${JSON.stringify(text)} has "[" without a closing "]"`);
    const host = parseHost(text.slice(1, close), true);
    const rest = text.slice(close + 1);
    if (rest === '') return { host, ports: null };
    if (!rest.startsWith(':')) {
      throw new RangeError(`${JSON.stringify(text)} must have ":" and a port after "]"`);
    }
    return { host, ports: parsePorts(rest.slice(1)) };
  }
  const colon = text.lastIndexOf(':');
  if (colon === -1) return { host: parseHost(text, false), ports: null };
  const hostText = text.slice(0, colon);
  if (hostText.includes(':')) {
    throw new RangeError(`IPv6 addresses must be in brackets, e.g. "[${hostText}]:${text.slice(colon + 1)}"`);
  }
  if (hostText === '') {
    throw new RangeError(`${JSON.stringify(text)} has no host; use 0.0.0.0 or [::] for every address`);
  }
  return { host: parseHost(hostText, false), ports: parsePorts(text.slice(colon + 1)) };
}

/**
 * Parses a listen address: `host:port` or `host:lo-hi` (at most 1024 ports).
 * @throws RangeError with the reason.
 */
export function parseListen(text: string): ListenSpec {
  const { host, ports } = parseHostPorts(text);
  if (ports === null)
    throw new RangeError(`${JSON.stringify(text)} has no port; use host:port or host:lo-hi`);
  return { host, portLo: ports.lo, portHi: ports.hi };
}

/**
 * Parses a target: `host:port`, `host:lo-hi`, or a bare host. When `listen` is given the
 * target must fit it: a bare host only behind a port range (it keeps each port), and a
 * target range exactly as wide as the listen range (ports map by offset).
 * @throws RangeError with the reason.
 */
export function parseTarget(text: string, listen?: ListenSpec): TargetSpec {
  const { host, ports } = parseHostPorts(text);
  const target: TargetSpec = { host, portLo: ports?.lo ?? null, portHi: ports?.hi ?? null };
  if (listen !== undefined) {
    const problem = targetFitProblem(target, listen);
    if (problem !== null) throw new RangeError(problem);
  }
  return target;
}

function describePorts(lo: number, hi: number): string {
  return lo === hi ? `port ${lo}` : `port range ${lo}-${hi}`;
}

/** Why `target` cannot serve `listen`, or null when it can. */
export function targetFitProblem(target: TargetSpec, listen: ListenSpec): string | null {
  const listenWidth = listen.portHi - listen.portLo + 1;
  if (target.portLo === null || target.portHi === null) {
    if (listenWidth > 1) return null;
    return `target ${formatHost(target.host)} has no port; a port may be left out only when listen is a port range`;
  }
  const targetWidth = target.portHi - target.portLo + 1;
  // One port serves any listen (every listen port goes to it); a range must map by offset.
  if (targetWidth === 1 || targetWidth === listenWidth) return null;
  return `target ${describePorts(target.portLo, target.portHi)} has ${targetWidth} ports but listen ${describePorts(listen.portLo, listen.portHi)} has ${listenWidth}; they must match`;
}

/** Brackets IPv6 literals so a host can be followed by `:port` again. */
export function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** One address and port, as a bind error names the port of a range that failed. */
export function formatHostPort(host: string, port: number): string {
  return `${formatHost(host)}:${port}`;
}

/** The listen as written: `host:port` or `host:lo-hi` (the `listen` of logs and metrics). */
export function formatListen(listen: ListenSpec): string {
  const ports = listen.portLo === listen.portHi ? `${listen.portLo}` : `${listen.portLo}-${listen.portHi}`;
  return `${formatHost(listen.host)}:${ports}`;
}

/** The target as written: `host:port`, `host:lo-hi` or a bare host (the `target` label). */
export function formatTarget(target: TargetSpec): string {
  const host = formatHost(target.host);
  if (target.portLo === null) return host;
  return target.portHi === null || target.portHi === target.portLo
    ? `${host}:${target.portLo}`
    : `${host}:${target.portLo}-${target.portHi}`;
}
