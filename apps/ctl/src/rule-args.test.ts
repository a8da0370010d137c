import { limitsSchema } from '@sluice/config';
import type { SluiceError } from '@sluice/errors';
import { describe, expect, it } from 'vitest';
import { CTL_ERRORS } from './errors.ts';
import {
  buildRuleRequest,
  defaultRuleName,
  LIMIT_KEYS,
  type LimitKey,
  type PushRuleArgs,
} from './rule-args.ts';

const BASE: PushRuleArgs = { edge: 'edge-01', listen: '0.0.0.0:8080', targets: ['10.0.0.5:80'] };

function usageError(args: Partial<PushRuleArgs>): SluiceError {
  try {
    buildRuleRequest({ ...BASE, ...args });
  } catch (error) {
    if (CTL_ERRORS.is(error)) return error;
    throw error;
  }
  throw new Error('expected a bad_usage error');
}

describe('buildRuleRequest', () => {
  it('builds the minimal rule table, leaving defaults to the server', () => {
    expect(buildRuleRequest(BASE)).toEqual({
      edge: 'edge-01',
      rule: { name: 'tcp-8080', listen: '0.0.0.0:8080', targets: ['10.0.0.5:80'] },
    });
  });

  it('maps every flag to its key', () => {
    const request = buildRuleRequest({
      edge: 'edge-01',
      listen: '[::]:443',
      targets: ['10.0.0.5:443', '10.0.0.6:443'],
      name: 'web',
      protocol: 'tcp',
      balance: 'round-robin',
      sni: ['a.example.com=10.0.0.7:443', '*.b.example.com=10.0.0.8:8443'],
      proxyProtocol: 'v2',
      limit: ['bandwidth=100Mbit', 'bandwidth_in=10MiB/s', 'burst=200Mbit', 'max_connections=100'],
      owner: 'alice',
    });
    expect(request).toEqual({
      edge: 'edge-01',
      owner: 'alice',
      rule: {
        name: 'web',
        listen: '[::]:443',
        targets: ['10.0.0.5:443', '10.0.0.6:443'],
        protocol: 'tcp',
        balance: 'round-robin',
        sni: { 'a.example.com': '10.0.0.7:443', '*.b.example.com': '10.0.0.8:8443' },
        proxy_protocol: 'v2',
        limits: { bandwidth: '100Mbit', bandwidth_in: '10MiB/s', burst: '200Mbit', max_connections: 100 },
      },
    });
  });

  it('parses numbers for the numeric limit keys and keeps bandwidths as strings', () => {
    const { rule } = buildRuleRequest({
      ...BASE,
      limit: ['new_connections_per_sec=2.5', 'new_connections_burst=10', 'bandwidth_out=1.5Gbit'],
    });
    expect(rule.limits).toEqual({
      new_connections_per_sec: 2.5,
      new_connections_burst: 10,
      bandwidth_out: '1.5Gbit',
    });
  });

  it('takes udp, failover and v1', () => {
    const { rule } = buildRuleRequest({ ...BASE, protocol: 'udp', balance: 'failover', proxyProtocol: 'v1' });
    expect(rule).toMatchObject({
      name: 'udp-8080',
      protocol: 'udp',
      balance: 'failover',
      proxy_protocol: 'v1',
    });
  });

  it('allows sni routes without a default target', () => {
    const request = buildRuleRequest({
      ...BASE,
      listen: '0.0.0.0:443',
      targets: [],
      sni: ['a.example.com=10.0.0.7:443'],
    });
    expect(request.rule).toEqual({
      name: 'tcp-443',
      listen: '0.0.0.0:443',
      sni: { 'a.example.com': '10.0.0.7:443' },
    });
  });

  it('needs a target or sni routes', () => {
    const error = usageError({ targets: [] });
    expect(error.code).toBe('bad_usage');
    expect(error.message).toMatch(/TARGET.*--sni/);
  });

  it.each([
    ['--protocol', { protocol: 'sctp' }, /--protocol "sctp" is not one of tcp, udp/],
    ['--balance', { balance: 'random' }, /--balance "random" is not one of failover, round-robin/],
    ['--proxy-protocol', { proxyProtocol: 'v3' }, /--proxy-protocol "v3" is not one of v1, v2/],
    ['--name', { name: ' ' }, /--name must not be empty/],
    ['--owner', { owner: '' }, /--owner must not be empty/],
  ] as const)('refuses a bad %s', (_flag, args, message) => {
    const error = usageError(args);
    expect(error.code).toBe('bad_usage');
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(message);
  });

  it.each([
    ['no "="', 'max_connections', /--limit "max_connections" is not KEY=VALUE/],
    ['an empty value', 'max_connections=', /--limit "max_connections=" is not KEY=VALUE/],
    ['an empty key', '=5', /--limit "=5" is not KEY=VALUE/],
    ['an unknown key', 'speed=1', /--limit "speed=1": unknown key "speed"; keys are bandwidth, /],
    [
      'a kebab-case key',
      'max-connections=5',
      /unknown key "max-connections"; did you mean max_connections\?/,
    ],
    [
      'a word for a count',
      'max_connections=lots',
      /--limit max_connections=lots: .* whole number of at least 1/,
    ],
    [
      'a fraction for a count',
      'new_connections_burst=1.5',
      /--limit new_connections_burst=1.5: .*whole number/,
    ],
    ['zero for a count', 'max_connections=0', /whole number of at least 1/],
    [
      'a negative rate',
      'new_connections_per_sec=-1',
      /--limit new_connections_per_sec=-1: .* number above 0/,
    ],
    ['zero for a rate', 'new_connections_per_sec=0', /number above 0/],
    ['hex for a rate', 'new_connections_per_sec=0x10', /number above 0/],
  ])('refuses a --limit with %s', (_what, limit, message) => {
    const error = usageError({ limit: [limit] });
    expect(error.code).toBe('bad_usage');
    expect(error.message).toMatch(message);
  });

  it('refuses a --limit key given twice', () => {
    expect(usageError({ limit: ['max_connections=1', 'max_connections=2'] }).message).toBe(
      '--limit max_connections is given twice',
    );
  });

  it.each([
    ['no "="', 'a.example.com', /--sni "a.example.com" is not NAME=TARGET/],
    ['no target', 'a.example.com=', /--sni "a.example.com=" is not NAME=TARGET/],
    ['no name', '=10.0.0.1:443', /--sni "=10.0.0.1:443" is not NAME=TARGET/],
  ])('refuses an --sni with %s', (_what, sni, message) => {
    const error = usageError({ sni: [sni] });
    expect(error.code).toBe('bad_usage');
    expect(error.message).toMatch(message);
  });

  it('refuses an --sni name given twice, ignoring case', () => {
    expect(usageError({ sni: ['a.example.com=10.0.0.1:1', 'A.example.COM=10.0.0.2:2'] }).message).toBe(
      '--sni A.example.COM is given twice',
    );
  });

  it("knows every [rules.limits] key of config's schema, each with the kind of value it takes", () => {
    const shape = limitsSchema.in.shape;
    expect(Object.keys(LIMIT_KEYS).sort()).toEqual(Object.keys(shape).sort());
    const accepts = (key: LimitKey, value: unknown): boolean => shape[key].safeParse(value).success;
    for (const [key, kind] of Object.entries(LIMIT_KEYS) as [LimitKey, string][]) {
      if (kind === 'bandwidth') expect(accepts(key, '10Mbit'), key).toBe(true);
      else
        expect({ fraction: accepts(key, 0.5), whole: accepts(key, 2) }, key).toEqual({
          fraction: kind === 'positive',
          whole: true,
        });
    }
  });
});

describe('defaultRuleName', () => {
  it.each([
    ['0.0.0.0:8080', 'tcp', 'tcp-8080'],
    ['127.0.0.1:5353', 'udp', 'udp-5353'],
    ['[::]:443', 'tcp', 'tcp-443'],
    ['0.0.0.0:10000-10010', 'tcp', 'tcp-10000-10010'],
  ])('names %s (%s) %s', (listen, protocol, name) => {
    expect(defaultRuleName(listen, protocol)).toBe(name);
  });

  it('refuses a listen without a port, naming LISTEN', () => {
    expect(() => defaultRuleName('0.0.0.0', 'tcp')).toThrow(/LISTEN "0.0.0.0" is not host:port/);
  });

  it('is not needed when --name is given', () => {
    expect(buildRuleRequest({ ...BASE, listen: 'odd', name: 'x' }).rule.name).toBe('x');
  });
});
