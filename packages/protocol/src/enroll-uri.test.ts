import { describe, expect, it } from 'vitest';
import { MAX_CONTROL_ADDRESSES } from './control-address.ts';
import { formatEnrollUri, parseEnrollUri } from './enroll-uri.ts';

const pin = 'ab'.repeat(32);
const query = `/enroll?pin=${pin}&code=abcdefgh`;

describe('enrollment URI', () => {
  it('round-trips one address, IPv6 hosts included', () => {
    for (const host of ['10.0.0.1', 'server.example', '::1']) {
      const target = { servers: [{ host, port: 7443 }], pin, code: 'Abc_123-xyz' };
      expect(parseEnrollUri(formatEnrollUri(target))).toEqual(target);
    }
  });

  it('reads a single-address URI as it always did', () => {
    expect(parseEnrollUri(`sluice://10.0.0.5:7443/enroll?pin=${pin.toUpperCase()}&code=Xk2abcdef`)).toEqual({
      servers: [{ host: '10.0.0.5', port: 7443 }],
      pin,
      code: 'Xk2abcdef',
    });
    expect(formatEnrollUri({ servers: [{ host: 'ctl.example', port: 7443 }], pin, code: 'abcdefgh' })).toBe(
      `sluice://ctl.example:7443${query}`,
    );
  });

  it('round-trips several addresses in their order, IPv6 in brackets', () => {
    const target = {
      servers: [
        { host: 'a.example', port: 7443 },
        { host: '2001:db8::7', port: 7444 },
        { host: '10.0.0.3', port: 7443 },
      ],
      pin,
      code: 'abcdefgh',
    };
    const uri = formatEnrollUri(target);
    expect(uri).toBe(`sluice://a.example:7443,[2001:db8::7]:7444,10.0.0.3:7443${query}`);
    expect(parseEnrollUri(uri)).toEqual(target);
  });

  it('takes as many addresses as the limit', () => {
    const servers = Array.from({ length: MAX_CONTROL_ADDRESSES }, (_, i) => ({
      host: '127.0.0.1',
      port: 7000 + i,
    }));
    expect(parseEnrollUri(formatEnrollUri({ servers, pin, code: 'abcdefgh' })).servers).toEqual(servers);
  });

  it('names what is wrong, and which address', () => {
    const bad = (authority: string) => () => parseEnrollUri(`sluice://${authority}${query}`);
    expect(() => parseEnrollUri(`https://x:1${query}`)).toThrow(/scheme/);
    expect(() => parseEnrollUri('sluice://x:1/enroll?pin=12&code=abcdefgh')).toThrow(/pin/);
    expect(() => parseEnrollUri(`sluice://x:1/enroll?pin=${pin}`)).toThrow(/code/);
    expect(() => parseEnrollUri(`sluice://x:1/join?pin=${pin}&code=abcdefgh`)).toThrow(/path "\/join"/);
    expect(() => parseEnrollUri('not a uri')).toThrow(/not a URI/);
    expect(bad('')).toThrow('the URI has no server address');
    expect(bad('x')).toThrow('address 1 "x" has no port');
    expect(bad('a:1,,b:2')).toThrow('address 2 is empty');
    expect(bad('a:1,')).toThrow('address 2 is empty');
    expect(bad('a:1,b:70000')).toThrow('address 2 "b:70000": port "70000" is not 1..65535');
    expect(bad('a:1,b:0')).toThrow('address 2 "b:0": port "0" is not 1..65535');
    expect(bad('a:1,b:x1')).toThrow('address 2 "b:x1": port "x1"');
    expect(bad('a:1,:2')).toThrow('address 2 ":2" has no host');
    expect(bad('a:1,::1:7443')).toThrow('address 2 "::1:7443": an IPv6 address goes in brackets');
    expect(bad('a:1,[nope]:7443')).toThrow('address 2 "[nope]:7443": "nope" is not an IPv6 address');
    expect(bad('a:1,[::1]')).toThrow('address 2 "[::1]" has no port');
    expect(bad('a:1,u@b:2')).toThrow('address 2 "u@b:2": "u@b" is not a host name or address');
    expect(bad('a:1,b:2,A:1')).toThrow('address 3 "A:1" repeats address 1');
    expect(bad('[::1]:1,[0:0::1]:2,[::1]:1')).toThrow('address 3 "[::1]:1" repeats address 1');
    const tooMany = Array.from({ length: MAX_CONTROL_ADDRESSES + 1 }, (_, i) => `h:${i + 1}`).join(',');
    expect(bad(tooMany)).toThrow(
      `${MAX_CONTROL_ADDRESSES + 1} server addresses; at most ${MAX_CONTROL_ADDRESSES}`,
    );
  });

  it('every error is a RangeError', () => {
    for (const uri of ['sluice://a:1,/enroll', 'x', `sluice://a:1,a:1${query}`])
      expect(() => parseEnrollUri(uri)).toThrow(RangeError);
  });
});
