import { describe, expect, it } from 'vitest';
import { checkRule, fieldErrorsOf } from './rule-validation.ts';

describe('checkRule (the server schema in the browser)', () => {
  it('takes a valid rule', () => {
    expect(checkRule({ name: 'web', listen: '127.0.0.1:8080', targets: ['127.0.0.1:80'] })).toBeNull();
  });

  it('puts each issue at its field, with the path and reason', () => {
    const errors = checkRule({
      name: 'web',
      listen: '127.0.0.1:9000-8000',
      targets: ['127.0.0.1:80'],
      protocol: 'sctp',
    });
    expect(Object.keys(errors ?? {}).sort()).toEqual(['listen', 'protocol']);
    expect(errors?.listen?.[0]).toMatch(/^listen: .*inverted/);
  });

  it('checks across keys: targets are needed unless sni is given', () => {
    expect(checkRule({ name: 'web', listen: '127.0.0.1:8080' })?.targets?.[0]).toMatch(
      /^targets: required key/,
    );
    expect(
      checkRule({ name: 'tls', listen: '127.0.0.1:8443', sni: { 'a.example.com': '127.0.0.1:9001' } }),
    ).toBeNull();
  });

  it('accepts IPv6 and refuses an IP address as an SNI name, as node:net would', () => {
    expect(checkRule({ name: 'v6', listen: '[::1]:8080', targets: ['[2001:db8::1]:80'] })).toBeNull();
    expect(
      checkRule({ name: 'tls', listen: '127.0.0.1:8443', sni: { '10.0.0.1': '127.0.0.1:9001' } })?.sni?.[0],
    ).toMatch(/IP address/);
  });
});

describe('fieldErrorsOf (the server answers)', () => {
  it('reads bad_request paths', () => {
    expect(fieldErrorsOf('bad_request', 'rule.listen: bad port; rule.targets[0]: bad host')).toEqual({
      listen: ['listen: bad port'],
      targets: ['targets[0]: bad host'],
    });
  });

  it('maps a not_granted port or protocol to its field', () => {
    expect(fieldErrorsOf('not_granted', 'port: no grant of bob on edge e1 holds listen port 9000')).toEqual({
      listen: ['port: no grant of bob on edge e1 holds listen port 9000'],
    });
    expect(fieldErrorsOf('not_granted', 'protocol: the grants do not allow udp').protocol).toHaveLength(1);
  });

  it('puts codes that name no path at their field, and the rest apart', () => {
    expect(fieldErrorsOf('port_in_use', 'port 8080 is held by another process')).toEqual({
      listen: ['port 8080 is held by another process'],
    });
    expect(
      fieldErrorsOf('activation_failed', 'port_in_use: edge e1 could not activate rule "web": held'),
    ).toEqual({
      listen: ['port_in_use: edge e1 could not activate rule "web": held'],
    });
    expect(
      fieldErrorsOf('activation_failed', 'failed: edge e1 could not activate rule "web": no reason given'),
    ).toEqual({
      _: ['failed: edge e1 could not activate rule "web": no reason given'],
    });
    expect(fieldErrorsOf('ack_timeout', 'the edge did not answer in 2 s')).toEqual({
      _: ['the edge did not answer in 2 s'],
    });
  });
});
