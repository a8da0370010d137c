import { describe, expect, it } from 'vitest';
import { findNotYetSupported, NOT_YET_SUPPORTED } from './not-yet-supported.ts';

const WEB = { name: 'web', listen: '127.0.0.1:8080', targets: ['127.0.0.1:80'] };
const SUFFIX = 'is not supported by this version of sluice yet';

describe('findNotYetSupported', () => {
  it.each([
    [{ protocol: 'udp' }, ['rules', 0, 'protocol'], `"udp" ${SUFFIX}`],
    [{ sni: { 'a.example.com': '127.0.0.1:1' } }, ['rules', 0, 'sni'], `SNI routing ${SUFFIX}`],
    [{ proxy_protocol: 'v1' }, ['rules', 0, 'proxy_protocol'], `PROXY protocol "v1" ${SUFFIX}`],
    [{ proxy_protocol: 'v2' }, ['rules', 0, 'proxy_protocol'], `PROXY protocol "v2" ${SUFFIX}`],
    [{ accept_proxy: true }, ['rules', 0, 'accept_proxy'], `accept_proxy = true ${SUFFIX}`],
    [
      { listen: '0.0.0.0:8000-8009' },
      ['rules', 0, 'listen'],
      `the port range in "0.0.0.0:8000-8009" ${SUFFIX}`,
    ],
  ])('refuses %j', (keys, path, message) => {
    expect(findNotYetSupported({ rules: [{ ...WEB, ...keys }] })).toEqual([{ path, message }]);
  });

  it('accepts what this build implements, and the values that ask for nothing', () => {
    const rule = {
      ...WEB,
      protocol: 'tcp',
      balance: 'round-robin',
      proxy_protocol: 'off',
      accept_proxy: false,
      limits: { bandwidth: '1Gbit', max_connections: 5 },
      listen: '127.0.0.1:8080-8080',
    };
    expect(findNotYetSupported({ rules: [rule], owners: { default: {}, other: { limits: { bandwidth: '1Gbit' } } } })).toEqual(
      [],
    );
  });

  it('leaves malformed values to the schema', () => {
    const rule = { ...WEB, protocol: 'sctp', proxy_protocol: 'v3', listen: '127.0.0.1:9000-8000', sni: 'x' };
    expect(findNotYetSupported({ rules: [rule, 'not a table'], owners: [] })).toEqual([]);
    expect(findNotYetSupported({})).toEqual([]);
  });

  it('is one small table, one entry per missing feature', () => {
    expect(NOT_YET_SUPPORTED.map((entry) => entry.path)).toEqual([
      'rules[].protocol',
      'rules[].sni',
      'rules[].proxy_protocol',
      'rules[].accept_proxy',
      'rules[].listen',
    ]);
  });
});
