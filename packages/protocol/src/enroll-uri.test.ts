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

describe('enrollment URI edges', () => {
  const one = (authority: string): string => `sluice://${authority}${query}`;
  const refusal = (text: string): string => {
    try {
      parseEnrollUri(text);
    } catch (error) {
      expect(error).toBeInstanceOf(RangeError);
      return (error as Error).message;
    }
    throw new Error(`${text} was accepted`);
  };

  it('formats 1..MAX addresses and refuses none or too many', () => {
    const servers = Array.from({ length: MAX_CONTROL_ADDRESSES + 1 }, (_, i) => ({ host: 'h', port: i + 1 }));
    expect(() => formatEnrollUri({ servers: [], pin, code: 'abcdefgh' })).toThrow(
      new RangeError(`0 server addresses; an enrollment URI takes 1..${MAX_CONTROL_ADDRESSES}`),
    );
    expect(() => formatEnrollUri({ servers, pin, code: 'abcdefgh' })).toThrow(
      new RangeError(
        `${MAX_CONTROL_ADDRESSES + 1} server addresses; an enrollment URI takes 1..${MAX_CONTROL_ADDRESSES}`,
      ),
    );
    const most = servers.slice(0, MAX_CONTROL_ADDRESSES);
    expect(parseEnrollUri(formatEnrollUri({ servers: most, pin, code: 'abcdefgh' })).servers).toEqual(most);
  });

  it('takes surrounding white space, and nothing before the scheme', () => {
    expect(parseEnrollUri(`  ${one('h:1')}\n`).servers).toEqual([{ host: 'h', port: 1 }]);
    expect(refusal(`1${one('h:1')}`)).toBe(
      `"1${one('h:1')}" is not a URI; expected sluice://HOST:PORT[,HOST:PORT...]/enroll?pin=...&code=...`,
    );
  });

  it('takes ports 1 and 65535 and nothing beyond', () => {
    expect(parseEnrollUri(one('h:65535')).servers).toEqual([{ host: 'h', port: 65535 }]);
    expect(parseEnrollUri(one('h:1')).servers).toEqual([{ host: 'h', port: 1 }]);
    expect(refusal(one('h:65536'))).toBe('address 1 "h:65536": port "65536" is not 1..65535');
    expect(refusal(one('h:0'))).toBe('address 1 "h:0": port "0" is not 1..65535');
    expect(refusal(one('h:'))).toBe('address 1 "h:" has no port; expected HOST:PORT');
    expect(refusal(one('[::1]:'))).toBe('address 1 "[::1]:" has no port; expected HOST:PORT');
  });

  it('takes brackets only around the whole host', () => {
    expect(refusal(one('x[::1]:7443'))).toBe(
      'address 1 "x[::1]:7443": an IPv6 address goes in brackets, [HOST]:PORT',
    );
  });

  it('takes a pin of exactly 64 hex digits and a code of 8..128 of [A-Za-z0-9_-]', () => {
    const with_ = (p: string, c: string) => `sluice://h:1/enroll?pin=${p}&code=${c}`;
    for (const bad of [`${pin}a`, `x${pin}`, pin.slice(1)]) {
      expect(refusal(with_(bad, 'abcdefgh'))).toBe('pin is not a SHA-256 fingerprint (64 hex digits)');
    }
    for (const bad of ['!abcdefgh', 'abcdefgh!', 'abcdefg', 'a'.repeat(129)]) {
      expect(refusal(with_(pin, bad))).toBe('code is missing or malformed');
    }
    expect(parseEnrollUri(with_(pin, 'a'.repeat(128))).code).toBe('a'.repeat(128));
  });
});
