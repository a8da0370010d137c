import { parseStandaloneConfig, type RuleSpec } from '@sluice/config';
import { describe, expect, it } from 'vitest';
import { nativeEligible } from './native-connections.ts';

function rule(listen: string, targets: string[], extra = ''): RuleSpec {
  const toml = `
[[rules]]
name = "r"
listen = "${listen}"
targets = [${targets.map((t) => `"${t}"`).join(', ')}]
${extra}
`;
  return parseStandaloneConfig(toml, 'native-connections.test.toml').rules[0]!;
}

describe('nativeEligible', () => {
  it('takes a rule of IP literals with nothing to read or write first', () => {
    expect(nativeEligible(rule('127.0.0.1:9000', ['127.0.0.1:1', '127.0.0.2:2']))).toBe(true);
    expect(nativeEligible(rule('[::1]:9000', ['[::1]:1']))).toBe(true);
  });

  it.each([
    ['an IPv6 zone on the listen address', rule('[fe80::1%lo]:9000', ['127.0.0.1:1'])],
    ['an IPv6 zone on a target', rule('127.0.0.1:9000', ['127.0.0.1:1', '[fe80::1%lo]:2'])],
    ['a target named by DNS', rule('127.0.0.1:9000', ['localhost:1'])],
    ['a listen host named by DNS', rule('localhost:9000', ['127.0.0.1:1'])],
    ['SNI routing', rule('127.0.0.1:9000', ['127.0.0.1:1'], 'sni = { "a.example" = "127.0.0.1:2" }')],
    ['accept_proxy', rule('127.0.0.1:9000', ['127.0.0.1:1'], 'accept_proxy = true')],
    ['a PROXY header to send', rule('127.0.0.1:9000', ['127.0.0.1:1'], 'proxy_protocol = "v2"')],
  ])('leaves a rule with %s to the JS path', (_what, spec) => {
    expect(nativeEligible(spec)).toBe(false);
  });
});
