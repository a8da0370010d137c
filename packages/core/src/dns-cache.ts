// Resolves target host names to the addresses a connection tries, one cache per shard shared by
// its rules. Answers live as long as their DNS TTL says (clamped to 5 s .. 5 min); when a refresh
// fails outright (timeout, SERVFAIL, no server reachable) the last answer is served for up to 30 s
// more, so a resolver hiccup does not take every DNS-named target down with it. A name that does
// not exist is remembered for 5 s, and concurrent resolves of one name share one query, so a
// burst of connections costs the resolver one question per name.

import { promises as dns, type LookupAddress, type RecordWithTtl } from 'node:dns';
import { isIP } from 'node:net';
import { DNS_ERRORS, type DnsError } from './dns-errors.ts';

/** The part of dns.promises.Resolver the cache uses; tests pass their own. */
export interface DnsResolver {
  resolve4(host: string, options: { ttl: true }): Promise<RecordWithTtl[]>;
  resolve6(host: string, options: { ttl: true }): Promise<RecordWithTtl[]>;
}

/** dns.promises.lookup(host, { all: true }); tests pass their own. */
export type DnsLookup = (host: string) => Promise<readonly LookupAddress[]>;

export interface DnsCacheOptions {
  resolver?: DnsResolver;
  lookup?: DnsLookup;
  /** Milliseconds; the clock that TTLs are measured on. */
  now?: () => number;
  /** DNS servers (`ip`, `ip:port`, `[ip6]:port`) for the built-in resolver (not `resolver`). */
  servers?: readonly string[];
  /** First-try timeout of the built-in resolver; c-ares backs off on the retry. */
  timeoutMs?: number;
}

export interface DnsCacheStats {
  /** Names sent to the resolver (one per refresh, however many families or callers). */
  readonly queries: number;
  /** Of those, how many ended without addresses: no such name, timeout or other failure. */
  readonly failures: number;
  /** Resolves answered with an expired answer because its refresh failed. */
  readonly staleServed: number;
}

export const DNS_MIN_TTL_MS = 5_000;
export const DNS_MAX_TTL_MS = 300_000;
/** How long past its expiry an answer may still be used while refreshes fail. */
export const DNS_STALE_MS = 30_000;
/** How long "no such name" is remembered. */
export const DNS_NEGATIVE_TTL_MS = 5_000;
/**
 * While refreshes fail, the stale answer is served at once rather than after another query (a
 * timeout costs seconds, and every new connection would pay it); one query retries at most this
 * often behind it.
 */
const STALE_RETRY_MS = 1_000;
// c-ares defaults to 5 s and 4 tries per server, far longer than a connect timeout (3 s by
// default). It backs off between tries: 500 ms and 2 tries gives up after about 1.9 s against a
// server that never answers (measured on Node 24), and still survives one lost packet.
const DEFAULT_TIMEOUT_MS = 500;
const DEFAULT_TRIES = 2;

/** The resolver's way of saying the name has no address, as opposed to failing to find out. */
const NO_ADDRESS_CODES = new Set(['ENOTFOUND', 'ENODATA']);

interface Answer {
  readonly v4: readonly string[];
  readonly v6: readonly string[];
  readonly expiresAt: number;
}

interface Entry {
  /** The last answer with addresses, kept into its stale window. */
  answer: Answer | null;
  /** "No such name", and until when that is believed. */
  negative: { readonly error: DnsError; readonly until: number } | null;
  inFlight: Promise<Answer> | null;
  /** The last refresh failed (not "no such name"): expired answers are served without waiting. */
  failing: boolean;
  /** While failing, the next refresh starts no earlier than this. */
  retryAt: number;
}

type Outcome = { readonly answer: Answer } | { readonly error: DnsError; readonly noAddress: boolean };

export class DnsCache {
  private readonly resolver: DnsResolver;
  private readonly lookup: DnsLookup;
  private readonly now: () => number;
  private readonly entries = new Map<string, Entry>();
  private queries = 0;
  private failures = 0;
  private staleServed = 0;

  constructor(options: DnsCacheOptions = {}) {
    this.now = options.now ?? Date.now;
    this.lookup = options.lookup ?? ((host) => dns.lookup(host, { all: true }));
    if (options.resolver) {
      this.resolver = options.resolver;
    } else {
      const resolver = new dns.Resolver({
        timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        tries: DEFAULT_TRIES,
      });
      if (options.servers) resolver.setServers(options.servers);
      this.resolver = resolver;
    }
  }

  /**
   * The addresses to try for `host`, in order: IPv4 first unless `preferIpv6`. An IP literal is
   * returned as it is. Rejects with a DnsError.
   */
  async resolve(host: string, preferIpv6: boolean): Promise<string[]> {
    const literal = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
    if (isIP(literal) !== 0) return [literal];

    // DNS names are case-insensitive; a trailing dot is kept, as it turns off the search list.
    const key = host.toLowerCase();
    const now = this.now();
    let entry = this.entries.get(key);
    if (entry === undefined) {
      this.sweep(now);
      entry = { answer: null, negative: null, inFlight: null, failing: false, retryAt: 0 };
      this.entries.set(key, entry);
    }
    if (entry.answer !== null && now < entry.answer.expiresAt) return ordered(entry.answer, preferIpv6);
    if (entry.negative !== null && now < entry.negative.until) throw entry.negative.error;
    if (entry.answer !== null && entry.failing && now < entry.answer.expiresAt + DNS_STALE_MS) {
      // The resolver is known to be failing: answer at once and let one query retry behind.
      if (entry.inFlight === null && now >= entry.retryAt) this.start(key, entry).catch(() => {});
      this.staleServed++;
      return ordered(entry.answer, preferIpv6);
    }
    try {
      return ordered(await this.start(key, entry), preferIpv6);
    } catch (err) {
      // refresh() keeps the previous answer only after a failure that allows serving it.
      const previous = entry.answer;
      if (previous !== null && this.now() < previous.expiresAt + DNS_STALE_MS) {
        this.staleServed++;
        return ordered(previous, preferIpv6);
      }
      throw err;
    }
  }

  stats(): DnsCacheStats {
    return { queries: this.queries, failures: this.failures, staleServed: this.staleServed };
  }

  /** The query in flight for this name, started if there is none. */
  private start(key: string, entry: Entry): Promise<Answer> {
    if (entry.inFlight !== null) return entry.inFlight;
    const query = this.refresh(key, entry);
    entry.inFlight = query;
    // Cleared once settled, so the next expiry asks again; waiting callers hold their own copy.
    const settled = (): void => {
      if (entry.inFlight === query) entry.inFlight = null;
    };
    query.then(settled, settled);
    return query;
  }

  /** Asks for both families and updates the entry; rejects with a DnsError. */
  private async refresh(host: string, entry: Entry): Promise<Answer> {
    this.queries++;
    let outcome = await this.query(host);
    if ('error' in outcome && outcome.noAddress) outcome = await this.fromHostsFile(host, outcome);
    const now = this.now();
    if ('answer' in outcome) {
      entry.answer = outcome.answer;
      entry.negative = null;
      entry.failing = false;
      return outcome.answer;
    }
    this.failures++;
    if (outcome.noAddress) {
      // An answer, not a failure: the name is gone, so its old addresses are not served.
      entry.answer = null;
      entry.failing = false;
      entry.negative = { error: outcome.error, until: now + DNS_NEGATIVE_TTL_MS };
    } else {
      entry.failing = true;
      entry.retryAt = now + STALE_RETRY_MS;
    }
    throw outcome.error;
  }

  private async query(host: string): Promise<Outcome> {
    const [v4, v6] = await Promise.allSettled([
      this.resolver.resolve4(host, { ttl: true }),
      this.resolver.resolve6(host, { ttl: true }),
    ]);
    const records4 = v4.status === 'fulfilled' ? v4.value : [];
    const records6 = v6.status === 'fulfilled' ? v6.value : [];
    const errors = [v4, v6].flatMap((result) =>
      result.status === 'rejected' ? [errnoOf(result.reason)] : [],
    );
    const failed = errors.filter((code) => !NO_ADDRESS_CODES.has(code));
    if (records4.length + records6.length > 0) {
      const ttlSeconds = Math.min(...[...records4, ...records6].map((record) => record.ttl));
      // One family answered and the other failed: use what we have, but ask again soon.
      const ttlMs = failed.length > 0 ? DNS_MIN_TTL_MS : clampTtl(ttlSeconds * 1000);
      return {
        answer: {
          v4: records4.map((record) => record.address),
          v6: records6.map((record) => record.address),
          expiresAt: this.now() + ttlMs,
        },
      };
    }
    const code = failed[0];
    if (code === undefined) return { error: DNS_ERRORS.error('dns_not_found', { host }), noAddress: true };
    if (code === 'ETIMEOUT') return { error: DNS_ERRORS.error('dns_timeout', { host }), noAddress: false };
    return { error: DNS_ERRORS.error('dns_failed', { host, reason: code }), noAddress: false };
  }

  /**
   * The Resolver speaks DNS only and never reads /etc/hosts, so a target named there (or known
   * only to NSS: mDNS, a container runtime's names) would be unreachable. When DNS says the name
   * has no address, the system's getaddrinfo gets a say. Its answers carry no TTL, so they are
   * kept for the minimum (5 s): an edited hosts file takes effect quickly. Asked only after a
   * negative DNS answer, which is itself cached, so a missing name costs at most one getaddrinfo
   * per 5 s. Note that getaddrinfo may ask the system's DNS servers, not `servers`.
   */
  private async fromHostsFile(host: string, negative: Outcome): Promise<Outcome> {
    let found: readonly LookupAddress[];
    try {
      found = await this.lookup(host);
    } catch {
      return negative;
    }
    const v4 = found.filter((entry) => entry.family === 4).map((entry) => entry.address);
    const v6 = found.filter((entry) => entry.family === 6).map((entry) => entry.address);
    if (v4.length + v6.length === 0) return negative;
    return { answer: { v4, v6, expiresAt: this.now() + DNS_MIN_TTL_MS } };
  }

  /** Drops names nobody has asked about for longer than anything about them stays valid. */
  private sweep(now: number): void {
    for (const [key, entry] of this.entries) {
      if (entry.inFlight !== null) continue;
      if (entry.answer !== null && now < entry.answer.expiresAt + DNS_STALE_MS) continue;
      if (entry.negative !== null && now < entry.negative.until) continue;
      this.entries.delete(key);
    }
  }
}

function ordered(answer: Answer, preferIpv6: boolean): string[] {
  return preferIpv6 ? [...answer.v6, ...answer.v4] : [...answer.v4, ...answer.v6];
}

function clampTtl(ms: number): number {
  return Math.min(DNS_MAX_TTL_MS, Math.max(DNS_MIN_TTL_MS, ms));
}

function errnoOf(reason: unknown): string {
  const code = (reason as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' ? code : 'EUNKNOWN';
}
