import { describe, expect, it } from 'vitest';
import {
  dnsNameProblem,
  formatHostPort,
  formatListen,
  formatTarget,
  parseListen,
  parseTarget,
  targetFitProblem,
} from './address.ts';

describe('parseListen', () => {
  it.each([
    ['127.0.0.1:8080', { host: '127.0.0.1', portLo: 8080, portHi: 8080 }],
    ['0.0.0.0:1', { host: '0.0.0.0', portLo: 1, portHi: 1 }],
    ['[::1]:65535', { host: '::1', portLo: 65535, portHi: 65535 }],
    ['[::]:8000-8099', { host: '::', portLo: 8000, portHi: 8099 }],
    ['10.0.0.1:9000-10023', { host: '10.0.0.1', portLo: 9000, portHi: 10023 }],
    ['Edge.Example.COM:80', { host: 'edge.example.com', portLo: 80, portHi: 80 }],
    ['localhost:80', { host: 'localhost', portLo: 80, portHi: 80 }],
    ['[FE80::1%eth0]:80', { host: 'fe80::1%eth0', portLo: 80, portHi: 80 }],
    ['my_service:80', { host: 'my_service', portLo: 80, portHi: 80 }],
    ['example.com.:80', { host: 'example.com.', portLo: 80, portHi: 80 }],
  ])('parses %s', (text, spec) => {
    expect(parseListen(text)).toEqual(spec);
  });

  it.each([
    ['127.0.0.1:70000', 'port 70000 is out of range 1-65535'],
    ['127.0.0.1:0', 'port 0 is out of range 1-65535'],
    ['127.0.0.1:10000-9000', 'port range 10000-9000 is inverted'],
    ['127.0.0.1:1000-2024', 'port range 1000-2024 has 1025 ports; at most 1024 are allowed'],
    ['127.0.0.1', '"127.0.0.1" has no port; use host:port or host:lo-hi'],
    ['[::1]', '"[::1]" has no port'],
    ['127.0.0.1:http', '"http" is not a port number'],
    ['127.0.0.1:', '"" is not a port number'],
    ['127.0.0.1:80-', '"" is not a port number'],
    ['::1:80', 'IPv6 addresses must be in brackets, e.g. "[::1]:80"'],
    ['[::1:80', 'has "[" without a closing "]"'],
    ['[::1]80', 'must have ":" and a port after "]"'],
    ['[::g]:80', '[::g] is not a valid IPv6 address'],
    ['[127.0.0.1]:80', '[127.0.0.1] is not a valid IPv6 address'],
    [':80', 'has no host; use 0.0.0.0 or [::] for every address'],
    ['300.1.1.1:80', '"300.1.1.1" is not a valid IPv4 address'],
    ['10.0.0:80', '"10.0.0" is not a valid IPv4 address'],
    ['a..b:80', 'host name "a..b" has an empty label'],
    ['-a.com:80', 'label "-a" may hold only letters, digits, "-" and "_", and may not start or end with "-"'],
    ['a-.com:80', 'label "a-"'],
    ['ex ample.com:80', 'contains whitespace'],
    ['ex!ample.com:80', 'label "ex!ample"'],
    [`${'a'.repeat(64)}.com:80`, 'is longer than 63 characters'],
  ])('refuses %s: %s', (text, reason) => {
    expect(() => parseListen(text)).toThrow(RangeError);
    expect(() => parseListen(text)).toThrow(reason);
  });

  it('refuses a host name longer than 253 characters', () => {
    const name = Array.from({ length: 5 }, () => 'a'.repeat(60)).join('.');
    expect(() => parseListen(`${name}:80`)).toThrow('host name is longer than 253 characters');
  });
});

describe('parseTarget', () => {
  const single = parseListen('127.0.0.1:8080');
  const range = parseListen('127.0.0.1:8000-8009');

  it('parses host:port, a port range and a bare host', () => {
    expect(parseTarget('10.0.0.1:80')).toEqual({ host: '10.0.0.1', portLo: 80, portHi: 80 });
    expect(parseTarget('db.internal:9000-9009')).toEqual({ host: 'db.internal', portLo: 9000, portHi: 9009 });
    expect(parseTarget('backend')).toEqual({ host: 'backend', portLo: null, portHi: null });
    expect(parseTarget('[2001:db8::1]')).toEqual({ host: '2001:db8::1', portLo: null, portHi: null });
  });

  it('lets a target leave out its port only behind a port range', () => {
    expect(parseTarget('10.0.0.1', range)).toEqual({ host: '10.0.0.1', portLo: null, portHi: null });
    expect(() => parseTarget('10.0.0.1', single)).toThrow(
      'target 10.0.0.1 has no port; a port may be left out only when listen is a port range',
    );
    expect(() => parseTarget('[::1]', single)).toThrow('target [::1] has no port');
  });

  it('maps a range only onto a range of the same width', () => {
    expect(parseTarget('10.0.0.1:9000-9009', range)).toEqual({
      host: '10.0.0.1',
      portLo: 9000,
      portHi: 9009,
    });
    expect(() => parseTarget('10.0.0.1:9000-9010', range)).toThrow(
      'target port range 9000-9010 has 11 ports but listen port range 8000-8009 has 10; they must match',
    );
    expect(() => parseTarget('10.0.0.1:9000-9001', single)).toThrow('but listen port 8080 has 1');
  });

  it('lets one target port serve a whole listen range', () => {
    expect(parseTarget('10.0.0.1:80', range)).toEqual({ host: '10.0.0.1', portLo: 80, portHi: 80 });
    expect(targetFitProblem({ host: 'h', portLo: 80, portHi: 80 }, single)).toBeNull();
  });
});

describe('dnsNameProblem', () => {
  it('accepts host names and refuses malformed ones', () => {
    expect(dnsNameProblem('a.example.com')).toBeNull();
    expect(dnsNameProblem('xn--bcher-kva.example')).toBeNull();
    expect(dnsNameProblem('')).toBe('the host name is empty');
    expect(dnsNameProblem('1.2.3.999')).toContain('is not a valid IPv4 address');
  });
});

describe('formatListen', () => {
  it('brackets IPv6 and shows ranges', () => {
    expect(formatListen(parseListen('[::1]:80'))).toBe('[::1]:80');
    expect(formatListen(parseListen('0.0.0.0:80-90'))).toBe('0.0.0.0:80-90');
  });
});

describe('formatTarget', () => {
  it('writes a target back as it was given, IPv6 in brackets', () => {
    for (const text of ['10.0.0.1:80', '[::1]:8443', 'db.internal:5432-5440', 'backend', '[fe80::1]']) {
      expect(formatTarget(parseTarget(text))).toBe(text);
    }
  });
});

describe('formatHostPort', () => {
  it('names one port of an address, IPv6 in brackets', () => {
    expect(formatHostPort('::1', 80)).toBe('[::1]:80');
    expect(formatHostPort('127.0.0.1', 9000)).toBe('127.0.0.1:9000');
  });
});
