// Checks across rules: unique names, and no two rules of one protocol listening on the same
// address and port. SO_REUSEPORT would let both bind without complaint and the kernel would
// then split connections between them, so an overlap must be refused here, by name.
// These read the raw TOML values, not the schema's output, so they still report when some
// other key of a rule is wrong.

import { formatListen, parseListen } from './address.ts';
import type { ListenSpec, Protocol } from './types.ts';
import type { PathIssue } from './zod-issues.ts';

const ANY_IPV4 = '0.0.0.0';
const ANY_IPV6 = '::';

/** One spelling per address, so `::1` and `0:0::1` compare equal. */
function canonicalHost(host: string): string {
  if (!host.includes(':')) return host.toLowerCase();
  try {
    return new URL(`http://[${host}]/`).hostname.slice(1, -1);
  } catch {
    // Zoned addresses (fe80::1%eth0) are not URL hosts; compare them as written.
    return host.toLowerCase();
  }
}

function hostsOverlap(a: string, b: string): boolean {
  const x = canonicalHost(a);
  const y = canonicalHost(b);
  if (x === y) return true;
  // Node binds `::` dual-stack, so it takes every IPv4 address too.
  if (x === ANY_IPV6 || y === ANY_IPV6) return true;
  const isV4 = (h: string) => /^\d+\.\d+\.\d+\.\d+$/.test(h);
  if (x === ANY_IPV4) return isV4(y);
  if (y === ANY_IPV4) return isV4(x);
  return false;
}

/** Whether two listens share at least one address and port. */
export function listensOverlap(a: ListenSpec, b: ListenSpec): boolean {
  return a.portLo <= b.portHi && b.portLo <= a.portHi && hostsOverlap(a.host, b.host);
}

interface RuleKeys {
  readonly index: number;
  readonly name: string | null;
  readonly listen: ListenSpec | null;
  readonly protocol: Protocol | null;
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readRule(raw: unknown, index: number): RuleKeys {
  if (!isTable(raw)) return { index, name: null, listen: null, protocol: null };
  let listen: ListenSpec | null = null;
  if (typeof raw.listen === 'string') {
    try {
      listen = parseListen(raw.listen);
    } catch (error) {
      // The schema reports the bad listen; here it just takes no part in overlap checks.
      if (!(error instanceof RangeError)) throw error;
    }
  }
  const protocol = raw.protocol ?? 'tcp';
  return {
    index,
    name: typeof raw.name === 'string' ? raw.name : null,
    listen,
    protocol: protocol === 'tcp' || protocol === 'udp' ? protocol : null,
  };
}

function describeRule(rule: RuleKeys): string {
  return rule.name === null
    ? `rules[${rule.index}]`
    : `rule ${JSON.stringify(rule.name)} (rules[${rule.index}])`;
}

/** Duplicate rule names and overlapping listens, reported at the later rule of each pair. */
export function findRuleConflicts(rawRules: unknown): PathIssue[] {
  if (!Array.isArray(rawRules)) return [];
  const rules = rawRules.map(readRule);
  const issues: PathIssue[] = [];
  const firstByName = new Map<string, RuleKeys>();
  for (const rule of rules) {
    if (rule.name === null) continue;
    const first = firstByName.get(rule.name);
    if (first === undefined) {
      firstByName.set(rule.name, rule);
    } else {
      issues.push({
        path: ['rules', rule.index, 'name'],
        message: `rule name ${JSON.stringify(rule.name)} is already used by rules[${first.index}]`,
      });
    }
  }
  rules.forEach((later, i) => {
    if (later.listen === null || later.protocol === null) return;
    for (const earlier of rules.slice(0, i)) {
      if (earlier.listen === null || earlier.protocol !== later.protocol) continue;
      if (!listensOverlap(earlier.listen, later.listen)) continue;
      issues.push({
        path: ['rules', later.index, 'listen'],
        message: `${formatListen(later.listen)} of ${describeRule(later)} overlaps ${formatListen(earlier.listen)} of ${describeRule(earlier)} for ${later.protocol}`,
      });
    }
  });
  return issues;
}
