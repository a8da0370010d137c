import type { LookupAddress, RecordWithTtl } from 'node:dns';
import { type DnsResponder, startDnsResponder } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { DnsCache, type DnsResolver } from './dns-cache.ts';
import { DNS_ERRORS, type DnsError } from './dns-errors.ts';

/** What a fake family answers: records, or the errno c-ares would reject with. */
type FamilyAnswer = readonly RecordWithTtl[] | string;

function errno(code: string, host: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`query ${code} ${host}`);
  error.code = code;
  return error;
}

/** A resolver answering from maps; a name in neither answers ENOTFOUND, like NXDOMAIN. */
class FakeResolver implements DnsResolver {
  readonly a = new Map<string, FamilyAnswer>();
  readonly aaaa = new Map<string, FamilyAnswer>();
  calls4 = 0;
  calls6 = 0;
  /** While set, every query waits for it. */
  gate: Promise<void> | null = null;

  async resolve4(host: string): Promise<RecordWithTtl[]> {
    this.calls4++;
    return this.answer(host, this.a);
  }

  async resolve6(host: string): Promise<RecordWithTtl[]> {
    this.calls6++;
    return this.answer(host, this.aaaa);
  }

  set(host: string, a: FamilyAnswer, aaaa: FamilyAnswer = 'ENODATA'): void {
    this.a.set(host, a);
    this.aaaa.set(host, aaaa);
  }

  private async answer(host: string, family: Map<string, FamilyAnswer>): Promise<RecordWithTtl[]> {
    if (this.gate) await this.gate;
    const answer = family.get(host) ?? 'ENOTFOUND';
    if (typeof answer === 'string') throw errno(answer, host);
    return [...answer];
  }
}

function records(ttl: number, ...addresses: string[]): RecordWithTtl[] {
  return addresses.map((address) => ({ address, ttl }));
}

function setup(lookupAnswer: readonly LookupAddress[] | string = 'ENOTFOUND') {
  const resolver = new FakeResolver();
  const clock = { t: 1_000_000 };
  const lookups: string[] = [];
  const cache = new DnsCache({
    resolver,
    now: () => clock.t,
    lookup: async (host) => {
      lookups.push(host);
      if (typeof lookupAnswer === 'string') throw errno(lookupAnswer, host);
      return lookupAnswer;
    },
  });
  return { resolver, clock, lookups, cache };
}

async function rejection(promise: Promise<unknown>): Promise<DnsError> {
  try {
    await promise;
  } catch (err) {
    expect(DNS_ERRORS.is(err)).toBe(true);
    return err as DnsError;
  }
  throw new Error('expected a rejection');
}

describe('DnsCache', () => {
  it('returns IP literals as they are without asking anyone', async () => {
    const { resolver, lookups, cache } = setup();
    expect(await cache.resolve('192.0.2.10', false)).toEqual(['192.0.2.10']);
    expect(await cache.resolve('2001:db8::7', false)).toEqual(['2001:db8::7']);
    expect(await cache.resolve('2001:db8::7', true)).toEqual(['2001:db8::7']);
    // Config keeps IPv6 bracketless; a bracketed one is still a literal, not a name.
    expect(await cache.resolve('[2001:db8::7]', false)).toEqual(['2001:db8::7']);
    expect(resolver.calls4 + resolver.calls6).toBe(0);
    expect(lookups).toEqual([]);
    expect(cache.stats()).toEqual({ queries: 0, failures: 0, staleServed: 0 });
  });

  it('serves a cached answer within its TTL and asks again after it', async () => {
    const { resolver, clock, cache } = setup();
    resolver.set('app.internal', records(60, '10.0.0.1'));
    const start = clock.t;
    expect(await cache.resolve('app.internal', false)).toEqual(['10.0.0.1']);
    clock.t = start + 59_999;
    expect(await cache.resolve('app.internal', false)).toEqual(['10.0.0.1']);
    expect(resolver.calls4).toBe(1);
    resolver.set('app.internal', records(60, '10.0.0.2'));
    clock.t = start + 60_000;
    expect(await cache.resolve('app.internal', false)).toEqual(['10.0.0.2']);
    expect(resolver.calls4).toBe(2);
    expect(cache.stats()).toEqual({ queries: 2, failures: 0, staleServed: 0 });
  });

  it('keeps a short TTL for at least 5 s', async () => {
    const { resolver, clock, cache } = setup();
    resolver.set('short.internal', records(1, '10.0.0.1'));
    const start = clock.t;
    await cache.resolve('short.internal', false);
    clock.t = start + 4_999;
    await cache.resolve('short.internal', false);
    expect(resolver.calls4).toBe(1);
    clock.t = start + 5_000;
    await cache.resolve('short.internal', false);
    expect(resolver.calls4).toBe(2);
  });

  it('keeps a long TTL for at most 5 min', async () => {
    const { resolver, clock, cache } = setup();
    resolver.set('long.internal', records(86_400, '10.0.0.1'));
    const start = clock.t;
    await cache.resolve('long.internal', false);
    clock.t = start + 299_999;
    await cache.resolve('long.internal', false);
    expect(resolver.calls4).toBe(1);
    clock.t = start + 300_000;
    await cache.resolve('long.internal', false);
    expect(resolver.calls4).toBe(2);
  });

  it('uses the smallest TTL of all records in both families', async () => {
    const { resolver, clock, cache } = setup();
    resolver.set('mixed.internal', records(120, '10.0.0.1'), records(20, 'fd00::1'));
    const start = clock.t;
    await cache.resolve('mixed.internal', false);
    clock.t = start + 19_999;
    await cache.resolve('mixed.internal', false);
    expect(resolver.calls4).toBe(1);
    clock.t = start + 20_000;
    await cache.resolve('mixed.internal', false);
    expect(resolver.calls4).toBe(2);
  });

  it('serves the stale answer for 30 s while refreshes fail, then the error', async () => {
    const { resolver, clock, cache } = setup();
    resolver.set('flaky.internal', records(10, '10.0.0.1'));
    const start = clock.t;
    await cache.resolve('flaky.internal', false);
    resolver.set('flaky.internal', 'ETIMEOUT', 'ETIMEOUT');

    clock.t = start + 10_000; // expired: this refresh fails, so the old answer is served
    expect(await cache.resolve('flaky.internal', false)).toEqual(['10.0.0.1']);
    expect(resolver.calls4).toBe(2);
    clock.t = start + 10_500; // known to be failing: served at once, no new query within 1 s
    expect(await cache.resolve('flaky.internal', false)).toEqual(['10.0.0.1']);
    expect(resolver.calls4).toBe(2);
    clock.t = start + 39_999; // still within 30 s of expiry; one query retries behind
    expect(await cache.resolve('flaky.internal', false)).toEqual(['10.0.0.1']);
    expect(resolver.calls4).toBe(3);
    await new Promise((resolve) => setImmediate(resolve)); // let that retry fail
    expect(cache.stats()).toEqual({ queries: 3, failures: 2, staleServed: 3 });

    clock.t = start + 40_000; // 30 s past expiry: the error surfaces
    const error = await rejection(cache.resolve('flaky.internal', false));
    expect(error.code).toBe('dns_timeout');
    expect(error.message).toContain('flaky.internal');
    expect(cache.stats()).toEqual({ queries: 4, failures: 3, staleServed: 3 });
  });

  it('goes back to fresh answers once the resolver recovers', async () => {
    const { resolver, clock, cache } = setup();
    resolver.set('flaky.internal', records(10, '10.0.0.1'));
    const start = clock.t;
    await cache.resolve('flaky.internal', false);
    resolver.set('flaky.internal', 'ESERVFAIL', 'ESERVFAIL');
    clock.t = start + 10_000;
    expect(await cache.resolve('flaky.internal', false)).toEqual(['10.0.0.1']);
    resolver.set('flaky.internal', records(10, '10.0.0.9'));
    clock.t = start + 11_000;
    // Still served stale this once, while the retry behind it succeeds.
    expect(await cache.resolve('flaky.internal', false)).toEqual(['10.0.0.1']);
    await new Promise((resolve) => setImmediate(resolve));
    expect(await cache.resolve('flaky.internal', false)).toEqual(['10.0.0.9']);
  });

  it('reports a failure with no previous answer at once, with the errno as reason', async () => {
    const { resolver, cache } = setup();
    resolver.set('broken.internal', 'ESERVFAIL', 'ECONNREFUSED');
    const error = await rejection(cache.resolve('broken.internal', false));
    expect(error.code).toBe('dns_failed');
    expect(error.message).toBe('target broken.internal: resolving the name failed (ESERVFAIL)');
    expect(error.toData()).toEqual({
      code: 'dns_failed',
      message: error.message,
      details: { host: 'broken.internal', reason: 'ESERVFAIL' },
    });
  });

  it('shares one query among concurrent resolves of one name', async () => {
    const { resolver, cache } = setup();
    resolver.set('busy.internal', records(60, '10.0.0.1'));
    let open!: () => void;
    resolver.gate = new Promise((resolve) => {
      open = resolve;
    });
    const pending = Array.from({ length: 10 }, (_, i) => cache.resolve('busy.internal', i % 2 === 0));
    open();
    const answers = await Promise.all(pending);
    expect(answers).toEqual(Array.from({ length: 10 }, () => ['10.0.0.1']));
    expect(resolver.calls4).toBe(1);
    expect(resolver.calls6).toBe(1);
    expect(cache.stats().queries).toBe(1);
  });

  it('orders IPv4 first unless IPv6 is preferred', async () => {
    const { resolver, cache } = setup();
    resolver.set('dual.internal', records(60, '10.0.0.1', '10.0.0.2'), records(60, 'fd00::1', 'fd00::2'));
    expect(await cache.resolve('dual.internal', false)).toEqual([
      '10.0.0.1',
      '10.0.0.2',
      'fd00::1',
      'fd00::2',
    ]);
    expect(await cache.resolve('dual.internal', true)).toEqual([
      'fd00::1',
      'fd00::2',
      '10.0.0.1',
      '10.0.0.2',
    ]);
    // One answer serves both preferences.
    expect(resolver.calls4).toBe(1);
  });

  it('uses one family when the other has no records', async () => {
    const { resolver, cache } = setup();
    resolver.set('v6only.internal', 'ENODATA', records(60, 'fd00::1'));
    expect(await cache.resolve('v6only.internal', false)).toEqual(['fd00::1']);
    expect(cache.stats().failures).toBe(0);
  });

  it('uses the family that answered when the other fails, and asks again after 5 s', async () => {
    const { resolver, clock, cache } = setup();
    resolver.set('half.internal', records(300, '10.0.0.1'), 'ETIMEOUT');
    const start = clock.t;
    expect(await cache.resolve('half.internal', true)).toEqual(['10.0.0.1']);
    clock.t = start + 5_000;
    await cache.resolve('half.internal', true);
    expect(resolver.calls6).toBe(2);
  });

  it('remembers a name with no address for 5 s', async () => {
    const { resolver, clock, lookups, cache } = setup();
    const start = clock.t;
    const error = await rejection(cache.resolve('missing.internal', false));
    expect(error.code).toBe('dns_not_found');
    expect(error.message).toBe('target missing.internal: the name has no IPv4 or IPv6 address');
    clock.t = start + 4_999;
    expect((await rejection(cache.resolve('missing.internal', false))).code).toBe('dns_not_found');
    expect(resolver.calls4).toBe(1);
    expect(lookups).toEqual(['missing.internal']);
    clock.t = start + 5_000;
    await rejection(cache.resolve('missing.internal', false));
    expect(resolver.calls4).toBe(2);
    expect(cache.stats()).toEqual({ queries: 2, failures: 2, staleServed: 0 });
  });

  it('does not serve the old addresses of a name that has gone', async () => {
    const { resolver, clock, cache } = setup();
    resolver.set('gone.internal', records(10, '10.0.0.1'));
    await cache.resolve('gone.internal', false);
    resolver.set('gone.internal', 'ENOTFOUND', 'ENOTFOUND');
    clock.t += 10_000;
    expect((await rejection(cache.resolve('gone.internal', false))).code).toBe('dns_not_found');
    expect(cache.stats().staleServed).toBe(0);
  });

  it('falls back to the hosts file (getaddrinfo) when DNS has no answer, for 5 s', async () => {
    const { resolver, clock, lookups, cache } = setup([
      { address: 'fd00::5', family: 6 },
      { address: '10.5.5.5', family: 4 },
    ]);
    const start = clock.t;
    expect(await cache.resolve('hosts-only', false)).toEqual(['10.5.5.5', 'fd00::5']);
    expect(await cache.resolve('hosts-only', true)).toEqual(['fd00::5', '10.5.5.5']);
    expect(lookups).toEqual(['hosts-only']);
    clock.t = start + 5_000;
    await cache.resolve('hosts-only', false);
    expect(lookups).toEqual(['hosts-only', 'hosts-only']);
    expect(resolver.calls4).toBe(2);
    expect(cache.stats().failures).toBe(0);
  });

  it('does not consult the hosts file when DNS fails rather than answers', async () => {
    const { resolver, lookups, cache } = setup([{ address: '10.5.5.5', family: 4 }]);
    resolver.set('down.internal', 'ETIMEOUT', 'ETIMEOUT');
    expect((await rejection(cache.resolve('down.internal', false))).code).toBe('dns_timeout');
    expect(lookups).toEqual([]);
  });

  it('treats names case-insensitively', async () => {
    const { resolver, cache } = setup();
    resolver.set('app.internal', records(60, '10.0.0.1'));
    await cache.resolve('app.internal', false);
    expect(await cache.resolve('APP.Internal', false)).toEqual(['10.0.0.1']);
    expect(resolver.calls4).toBe(1);
  });
});

describe('DnsCache against a DNS server on loopback', () => {
  let responder: DnsResponder | null = null;

  afterEach(async () => {
    await responder?.close();
    responder = null;
  });

  it('resolves a name through the server and keeps it for its TTL', async () => {
    responder = await startDnsResponder({ 'svc.sluice.test': { a: ['127.0.0.2'], ttl: 7 } });
    const clock = { t: 1_000_000 };
    const cache = new DnsCache({ servers: [responder.server], now: () => clock.t });
    expect(await cache.resolve('svc.sluice.test', false)).toEqual(['127.0.0.2']);
    expect(responder.questions).toEqual([
      { name: 'svc.sluice.test', type: 'A' },
      { name: 'svc.sluice.test', type: 'AAAA' },
    ]);
    clock.t += 6_999;
    expect(await cache.resolve('svc.sluice.test', true)).toEqual(['127.0.0.2']);
    expect(responder.questions).toHaveLength(2);
    clock.t += 1; // the TTL of 7 s has run out
    responder.set('svc.sluice.test', { a: ['127.0.0.3'], aaaa: ['::1'], ttl: 7 });
    expect(await cache.resolve('svc.sluice.test', true)).toEqual(['::1', '127.0.0.3']);
    expect(responder.questions).toHaveLength(4);
  });

  it('maps what the server says to the error table', async () => {
    responder = await startDnsResponder({ 'fail.sluice.test': 'servfail', 'slow.sluice.test': 'drop' });
    const cache = new DnsCache({
      servers: [responder.server],
      timeoutMs: 50,
      // Keep getaddrinfo (and so the system's resolver) out of the test.
      lookup: async (host) => {
        throw errno('ENOTFOUND', host);
      },
    });
    expect((await rejection(cache.resolve('nxdomain.sluice.test', false))).code).toBe('dns_not_found');
    const servfail = await rejection(cache.resolve('fail.sluice.test', false));
    expect(servfail.code).toBe('dns_failed');
    expect(servfail.details).toEqual({ host: 'fail.sluice.test', reason: 'ESERVFAIL' });
    expect((await rejection(cache.resolve('slow.sluice.test', false))).code).toBe('dns_timeout');
  });
});
