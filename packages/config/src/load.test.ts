import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONFIG_ERRORS, type ConfigError, type ConfigIssue } from './errors.ts';
import { loadStandaloneConfig, parseStandaloneConfig } from './load.ts';
import { WEB_RULE_DEFAULTS } from './rule-defaults.fixture.ts';

const FILE = '/x/edge.toml';

const BASE_RULE: Readonly<Record<string, string>> = {
  name: '"web"',
  listen: '"127.0.0.1:8080"',
  targets: '["127.0.0.1:80"]',
};

/** A `[[rules]]` table: the base rule with keys replaced (a null value drops the key). */
function rule(keys: Record<string, string | null> = {}): string {
  const merged: Record<string, string | null> = { ...BASE_RULE, ...keys };
  const lines = Object.entries(merged)
    .filter((entry): entry is [string, string] => entry[1] !== null)
    .map(([key, value]) => `${key} = ${value}`);
  return `[[rules]]\n${lines.join('\n')}\n`;
}

function failure(toml: string): ConfigError {
  try {
    parseStandaloneConfig(toml, FILE);
  } catch (error) {
    if (CONFIG_ERRORS.is(error)) return error as ConfigError;
    throw error;
  }
  throw new Error('the config was accepted');
}

function issuesOf(toml: string): readonly ConfigIssue[] {
  return failure(toml).details.issues;
}

describe('parseStandaloneConfig: bad configs', () => {
  // Each case has exactly one problem.
  const cases: readonly [title: string, toml: string, path: string, reason: string][] = [
    ['empty edge name', `name = ""\n${rule()}`, 'name', '"" is not a valid edge name'],
    ['edge name of the wrong type', `name = 5\n${rule()}`, 'name', 'expected a string, found an integer (5)'],
    ['zero shards', `shards = 0\n${rule()}`, 'shards', 'must be at least 1, found 0'],
    ['too many shards', `shards = 300\n${rule()}`, 'shards', 'must be at most 256, found 300'],
    ['fractional shards', `shards = 1.5\n${rule()}`, 'shards', 'expected an integer, found a float (1.5)'],
    ['metrics without port', `metrics = "127.0.0.1"\n${rule()}`, 'metrics', 'has no port'],
    [
      'metrics on a range',
      `metrics = "127.0.0.1:9000-9001"\n${rule()}`,
      'metrics',
      'one port, not the range',
    ],
    [
      'metrics as a number',
      `metrics = 9464\n${rule()}`,
      'metrics',
      'expected a "host:port" string, found an integer',
    ],
    [
      'negative drain timeout',
      `drain_timeout_secs = -1\n${rule()}`,
      'drain_timeout_secs',
      'at least 0, found -1',
    ],
    [
      'date as drain timeout',
      `drain_timeout_secs = 1979-05-27\n${rule()}`,
      'drain_timeout_secs',
      'found a date-time',
    ],
    [
      'no rules key',
      'name = "a"\n',
      'rules',
      'required key is missing; add [[rules]] tables, or rules = [] for none',
    ],
    ['rules as a table', 'rules = {}\n', 'rules', 'expected an array, found a table'],
    ['unknown top-level key', `ruels = 1\n${rule()}`, 'ruels', 'unknown key "ruels"; did you mean "rules"?'],
    ['rule without name', rule({ name: null }), 'rules[0].name', 'required key is missing'],
    ['rule name with a leading dash', rule({ name: '"-web"' }), 'rules[0].name', 'is not a valid rule name'],
    [
      'rule name too long',
      rule({ name: `"${'a'.repeat(65)}"` }),
      'rules[0].name',
      'is not a valid rule name',
    ],
    ['rule without listen', rule({ listen: null }), 'rules[0].listen', 'required key is missing'],
    [
      'listen port too high',
      rule({ listen: '"127.0.0.1:70000"' }),
      'rules[0].listen',
      'port 70000 is out of range 1-65535',
    ],
    [
      'listen port zero',
      rule({ listen: '"127.0.0.1:0"' }),
      'rules[0].listen',
      'port 0 is out of range 1-65535',
    ],
    [
      'inverted range',
      rule({ listen: '"127.0.0.1:9000-8000"' }),
      'rules[0].listen',
      'port range 9000-8000 is inverted',
    ],
    [
      'range too wide',
      rule({ listen: '"127.0.0.1:1000-3000"' }),
      'rules[0].listen',
      'has 2001 ports; at most 1024',
    ],
    ['listen without port', rule({ listen: '"127.0.0.1"' }), 'rules[0].listen', 'has no port'],
    [
      'unbracketed IPv6',
      rule({ listen: '"::1:80"' }),
      'rules[0].listen',
      'IPv6 addresses must be in brackets',
    ],
    ['bad IPv6', rule({ listen: '"[::g]:80"' }), 'rules[0].listen', '[::g] is not a valid IPv6 address'],
    [
      'bad IPv4',
      rule({ listen: '"300.1.1.1:80"' }),
      'rules[0].listen',
      '"300.1.1.1" is not a valid IPv4 address',
    ],
    [
      'listen without host',
      rule({ listen: '":80"' }),
      'rules[0].listen',
      'use 0.0.0.0 or [::] for every address',
    ],
    ['bad DNS label', rule({ listen: '"exa-.com:80"' }), 'rules[0].listen', 'label "exa-"'],
    ['named port', rule({ listen: '"127.0.0.1:http"' }), 'rules[0].listen', '"http" is not a port number'],
    [
      'listen as a number',
      rule({ listen: '8080' }),
      'rules[0].listen',
      'expected a "host:port" or "host:lo-hi" string',
    ],
    [
      'no targets and no sni',
      rule({ targets: null }),
      'rules[0].targets',
      'may be left out only when sni is given',
    ],
    ['empty targets', rule({ targets: '[]' }), 'rules[0].targets', 'at least 1 entry unless sni is given'],
    [
      'nine targets',
      rule({ targets: `[${Array.from({ length: 9 }, (_, i) => `"10.0.0.${i + 1}:80"`).join(', ')}]` }),
      'rules[0].targets',
      'must have at most 8 entries, found 9',
    ],
    [
      'targets as a string',
      rule({ targets: '"127.0.0.1:80"' }),
      'rules[0].targets',
      'expected an array, found a string',
    ],
    ['target without port', rule({ targets: '["10.0.0.1"]' }), 'rules[0].targets[0]', 'has no port'],
    [
      'target with a bad port',
      rule({ targets: '["a:1", "b:0"]' }),
      'rules[0].targets[1]',
      'port 0 is out of range',
    ],
    [
      'target range vs one port',
      rule({ targets: '["10.0.0.1:80-81"]' }),
      'rules[0].targets[0]',
      'has 2 ports',
    ],
    [
      'target range of another width',
      rule({ listen: '"127.0.0.1:8000-8009"', targets: '["10.0.0.1:80-90"]' }),
      'rules[0].targets[0]',
      'has 11 ports but listen port range 8000-8009 has 10; they must match',
    ],
    [
      'unknown protocol',
      rule({ protocol: '"sctp"' }),
      'rules[0].protocol',
      'expected one of "tcp", "udp", found a string ("sctp")',
    ],
    [
      'unknown balance',
      rule({ balance: '"random"' }),
      'rules[0].balance',
      'expected one of "failover", "round-robin"',
    ],
    [
      'zero connect timeout',
      rule({ connect_timeout_ms: '0' }),
      'rules[0].connect_timeout_ms',
      'must be at least 1, found 0',
    ],
    [
      'huge connect timeout',
      rule({ connect_timeout_ms: '700000' }),
      'rules[0].connect_timeout_ms',
      'at most 600000',
    ],
    [
      'string connect timeout',
      rule({ connect_timeout_ms: '"3s"' }),
      'rules[0].connect_timeout_ms',
      'expected an integer, found a string ("3s")',
    ],
    [
      'zero half-close timeout',
      rule({ half_close_timeout_secs: '0' }),
      'rules[0].half_close_timeout_secs',
      'must be more than 0',
    ],
    [
      'negative idle timeout',
      rule({ idle_timeout_secs: '-5' }),
      'rules[0].idle_timeout_secs',
      'must be more than 0, found -5',
    ],
    [
      'idle timeout over a day',
      rule({ idle_timeout_secs: '90000' }),
      'rules[0].idle_timeout_secs',
      'at most 86400',
    ],
    ['zero max_flows', rule({ max_flows: '0' }), 'rules[0].max_flows', 'must be at least 1, found 0'],
    [
      'receive buffer in megabytes',
      rule({ protocol: '"udp"', udp_receive_buffer: '"4MB"' }),
      'rules[0].udp_receive_buffer',
      '"4MB" is not a size; use e.g. "4MiB", "512KiB" or "65536B"',
    ],
    [
      'receive buffer below 4 KiB',
      rule({ protocol: '"udp"', udp_receive_buffer: '"1KiB"' }),
      'rules[0].udp_receive_buffer',
      '"1KiB" is out of range; use 4KiB to 1GiB',
    ],
    [
      'receive buffer over 1 GiB',
      rule({ protocol: '"udp"', udp_receive_buffer: '"2GiB"' }),
      'rules[0].udp_receive_buffer',
      '"2GiB" is out of range; use 4KiB to 1GiB',
    ],
    [
      'receive buffer as a number',
      rule({ protocol: '"udp"', udp_receive_buffer: '4096' }),
      'rules[0].udp_receive_buffer',
      'expected a size string such as "4MiB", found an integer',
    ],
    [
      'receive buffer on a TCP rule',
      rule({ udp_receive_buffer: '"4MiB"' }),
      'rules[0].udp_receive_buffer',
      'udp_receive_buffer needs protocol "udp"',
    ],
    [
      'unknown PROXY version',
      rule({ proxy_protocol: '"v3"' }),
      'rules[0].proxy_protocol',
      'expected one of "off", "v1", "v2"',
    ],
    [
      'accept_proxy as a string',
      rule({ accept_proxy: '"yes"' }),
      'rules[0].accept_proxy',
      'expected true or false, found a string ("yes")',
    ],
    ['bad owner', rule({ owner: '"a b"' }), 'rules[0].owner', '"a b" is not a valid owner name'],
    [
      'prefer_ipv6 as a number',
      rule({ prefer_ipv6: '1' }),
      'rules[0].prefer_ipv6',
      'expected true or false, found an integer (1)',
    ],
    [
      'misspelt rule key',
      rule({ lisen: '"x"' }),
      'rules[0].lisen',
      'unknown key "lisen"; did you mean "listen"?',
    ],
    [
      'camelCase rule key',
      rule({ connectTimeoutMs: '5' }),
      'rules[0].connectTimeoutMs',
      'did you mean "connect_timeout_ms"?',
    ],
    [
      'bad bandwidth',
      rule({ limits: '{ bandwidth = "100 Mbps" }' }),
      'rules[0].limits.bandwidth',
      '"100 Mbps" is not a bandwidth; use e.g. "100Mbit" or "10MiB/s"',
    ],
    [
      'bandwidth as a number',
      rule({ limits: '{ bandwidth = 1000 }' }),
      'rules[0].limits.bandwidth',
      'expected a bandwidth string such as "100Mbit"',
    ],
    [
      'burst alone',
      rule({ limits: '{ burst = "1Mbit" }' }),
      'rules[0].limits.burst',
      'has no effect without bandwidth',
    ],
    [
      'connection burst alone',
      rule({ limits: '{ new_connections_burst = 5 }' }),
      'rules[0].limits.new_connections_burst',
      'no effect without new_connections_per_sec',
    ],
    [
      'zero connection rate',
      rule({ limits: '{ new_connections_per_sec = 0 }' }),
      'rules[0].limits.new_connections_per_sec',
      'must be more than 0',
    ],
    [
      'zero max_connections',
      rule({ limits: '{ max_connections = 0 }' }),
      'rules[0].limits.max_connections',
      'must be at least 1, found 0',
    ],
    [
      'misspelt limits key',
      rule({ limits: '{ bandwith = "1Mbit" }' }),
      'rules[0].limits.bandwith',
      'did you mean "bandwidth"?',
    ],
    [
      'limits as a string',
      rule({ limits: '"fast"' }),
      'rules[0].limits',
      'expected a table, found a string ("fast")',
    ],
    ['empty sni', rule({ sni: '{}' }), 'rules[0].sni', 'has no routes'],
    [
      'sni wildcard inside',
      rule({ sni: '{ "a.*.com" = "10.0.0.1:1" }' }),
      'rules[0].sni."a.*.com"',
      'whole first label',
    ],
    [
      'sni IP address',
      rule({ sni: '{ "1.2.3.4" = "10.0.0.1:1" }' }),
      'rules[0].sni."1.2.3.4"',
      'SNI carries only host names',
    ],
    [
      'sni trailing dot',
      rule({ sni: '{ "a.com." = "10.0.0.1:1" }' }),
      'rules[0].sni."a.com."',
      'must not end with "."',
    ],
    [
      'sni names differing in case',
      rule({ sni: '{ "a.example.com" = "10.0.0.1:1", "A.example.com" = "10.0.0.1:2" }' }),
      'rules[0].sni."A.example.com"',
      'the same SNI name as "a.example.com"',
    ],
    [
      'sni target without port',
      rule({ sni: '{ "a.com" = "10.0.0.1" }' }),
      'rules[0].sni."a.com"',
      'has no port',
    ],
    [
      'sni target that is not a string',
      rule({ sni: '{ "a.com" = 1 }' }),
      'rules[0].sni."a.com"',
      'expected a "host:port" string',
    ],
    [
      'sni over UDP',
      rule({ protocol: '"udp"', sni: '{ "a.com" = "10.0.0.1:1" }' }),
      'rules[0].sni',
      'SNI routing needs protocol "tcp"',
    ],
    [
      'PROXY v1 over UDP',
      rule({ protocol: '"udp"', proxy_protocol: '"v1"' }),
      'rules[0].proxy_protocol',
      '"v1" carries only TCP',
    ],
    [
      'accept_proxy over UDP',
      rule({ protocol: '"udp"', accept_proxy: 'true' }),
      'rules[0].accept_proxy',
      'accept_proxy needs protocol "tcp"',
    ],
    [
      'bad owner name',
      `${rule()}[owners."bad owner"]\n`,
      'owners."bad owner"',
      '"bad owner" is not a valid owner name',
    ],
    [
      'owner cap out of range',
      `${rule()}[owners.team-a.limits]\nmax_connections = 0\n`,
      'owners.team-a.limits.max_connections',
      'must be at least 1, found 0',
    ],
    [
      'misspelt owner key',
      `${rule()}[owners.team-a.limit]\n`,
      'owners.team-a.limit',
      'did you mean "limits"?',
    ],
    ['owners as an array', `owners = []\n${rule()}`, 'owners', 'expected a table, found an array'],
    [
      'duplicate rule name',
      `${rule()}${rule({ listen: '"127.0.0.1:8081"' })}`,
      'rules[1].name',
      'rule name "web" is already used by rules[0]',
    ],
    [
      'overlapping listens',
      `${rule({ name: '"a"', listen: '"0.0.0.0:8080"' })}${rule({ name: '"b"' })}`,
      'rules[1].listen',
      '127.0.0.1:8080 of rule "b" (rules[1]) overlaps 0.0.0.0:8080 of rule "a" (rules[0]) for tcp',
    ],
  ];

  it.each(cases)('%s', (_title, toml, path, reason) => {
    const error = failure(toml);
    expect(error.code).toBe('config_invalid');
    expect(error.exitCode).toBe(2);
    expect(error.details.issues).toEqual([{ path, message: expect.stringContaining(reason) }]);
  });

  it('prints FILE: PATH: REASON', () => {
    expect(failure(`${rule()}${rule({ name: '"api"', listen: '"127.0.0.1:70000"' })}`).message).toBe(
      '/x/edge.toml: rules[1].listen: port 70000 is out of range 1-65535',
    );
  });

  it('collects every problem, ordered by where it sits', () => {
    const toml = [
      'shards = 0',
      'colour = "blue"',
      rule({ listen: '"127.0.0.1:99999"', balance: '"random"' }),
      rule({ name: '"web"', listen: '"127.0.0.1:8081"', protocol: '"udp"' }),
      '[owners.x]\nlimits = { max_connections = 0 }',
    ].join('\n');
    expect(issuesOf(toml)).toEqual([
      { path: 'shards', message: 'must be at least 1, found 0' },
      { path: 'colour', message: 'unknown key "colour"' },
      { path: 'rules[0].listen', message: 'port 99999 is out of range 1-65535' },
      { path: 'rules[0].balance', message: expect.stringContaining('expected one of') },
      { path: 'rules[1].name', message: 'rule name "web" is already used by rules[0]' },
      { path: 'owners.x.limits.max_connections', message: 'must be at least 1, found 0' },
    ]);
  });
});

describe('parseStandaloneConfig: valid configs', () => {
  it('fills every default', () => {
    const config = parseStandaloneConfig(rule(), FILE);
    expect(config).toEqual({
      file: FILE,
      name: hostname(),
      shards: null,
      metrics: null,
      drainTimeoutSecs: 30,
      maxConnections: null,
      owners: {},
      rules: [WEB_RULE_DEFAULTS],
    });
  });

  it('reads what this build supports', () => {
    const toml = [
      'name = "edge-01"',
      'shards = 2',
      'metrics = "127.0.0.1:9464"',
      'drain_timeout_secs = 5',
      'max_connections = 2000',
      rule({
        balance: '"round-robin"',
        targets: '["a.internal:80", "[2001:db8::1]:80"]',
        prefer_ipv6: 'true',
      }),
      rule({ name: '"db"', listen: '"[::1]:5432"', targets: '["10.0.0.5:5432"]', owner: '"team-a"' }),
      '[owners.team-a]',
    ].join('\n');
    const config = parseStandaloneConfig(toml, FILE);
    expect(config).toMatchObject({
      name: 'edge-01',
      shards: 2,
      metrics: { host: '127.0.0.1', port: 9464 },
      drainTimeoutSecs: 5,
      maxConnections: 2000,
      owners: { 'team-a': { limits: { maxConnections: null } } },
    });
    expect(config.rules[0]).toMatchObject({
      balance: 'round-robin',
      preferIpv6: true,
      targets: [
        { host: 'a.internal', portLo: 80, portHi: 80 },
        { host: '2001:db8::1', portLo: 80, portHi: 80 },
      ],
    });
    expect(config.rules[1]).toMatchObject({
      listen: { host: '::1', portLo: 5432, portHi: 5432 },
      owner: 'team-a',
    });
  });

  it('accepts an empty rule list', () => {
    expect(parseStandaloneConfig('rules = []\n', FILE).rules).toEqual([]);
  });

  it('makes the file path absolute', () => {
    const config = parseStandaloneConfig(rule(), 'conf/edge.toml');
    expect(config.file).toBe(join(process.cwd(), 'conf/edge.toml'));
  });

  it('returns a deep-frozen object', () => {
    const config = parseStandaloneConfig(`metrics = "127.0.0.1:9464"\n${rule()}[owners.a]\n`, FILE);
    const rule0 = config.rules[0]!;
    for (const part of [
      config,
      config.metrics,
      config.rules,
      config.owners,
      config.owners.a,
      config.owners.a?.limits,
      rule0,
      rule0.listen,
      rule0.targets,
      rule0.targets[0],
      rule0.limits,
    ]) {
      expect(Object.isFrozen(part)).toBe(true);
    }
    expect(() => {
      Object.assign(config, { name: 'changed' });
    }).toThrow(TypeError);
    expect(() => {
      (config.rules as unknown[]).push(rule0);
    }).toThrow(TypeError);
  });
});

describe('parseStandaloneConfig: TOML syntax errors', () => {
  it('names the file, line and column', () => {
    const error = failure('name = "edge"\n\n[[rules]]\nname = "web"\nlisten = \n');
    expect(error.code).toBe('config_syntax');
    expect(error.exitCode).toBe(2);
    expect(error.details).toMatchObject({ line: 5, column: 10 });
    expect(error.message).toMatch(/^\/x\/edge\.toml:5:10: not valid TOML: /);
    expect(error.message).not.toContain('\n');
    expect(error.toData()).toMatchObject({
      code: 'config_syntax',
      details: { file: FILE, line: 5, column: 10, excerpt: expect.stringContaining('listen =') },
    });
  });

  it('treats a key given twice as a syntax error', () => {
    const error = failure(`${rule()}name = "again"\n`);
    expect(error.code).toBe('config_syntax');
    expect(error.details.line).toBe(5);
  });
});

describe('loadStandaloneConfig', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-config-'));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads and validates a file', async () => {
    const file = join(dir, 'edge.toml');
    await writeFile(file, `name = "edge-01"\n${rule()}`);
    const config = await loadStandaloneConfig(file);
    expect(config.file).toBe(file);
    expect(config.name).toBe('edge-01');
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('resolves a relative path', async () => {
    const file = join(dir, 'relative.toml');
    await writeFile(file, rule());
    const config = await loadStandaloneConfig(relative(process.cwd(), file));
    expect(config.file).toBe(file);
  });

  it('reports a missing file as config_unreadable', async () => {
    const file = join(dir, 'missing.toml');
    const error = await loadStandaloneConfig(file).catch((e: unknown) => e);
    expect(CONFIG_ERRORS.is(error)).toBe(true);
    expect(error).toMatchObject({ code: 'config_unreadable', details: { file }, exitCode: 2 });
    expect((error as ConfigError).message).toBe(
      `${file}: cannot read the config file: no such file (ENOENT)`,
    );
    expect((error as ConfigError).toData()).toMatchObject({ code: 'config_unreadable', details: { file } });
  });

  it('reports a directory as config_unreadable', async () => {
    const sub = join(dir, 'sub.toml');
    await mkdir(sub);
    await expect(loadStandaloneConfig(sub)).rejects.toMatchObject({
      code: 'config_unreadable',
      message: `${sub}: cannot read the config file: it is a directory (EISDIR)`,
    });
  });

  it('refuses a file that is not UTF-8', async () => {
    const file = join(dir, 'latin1.toml');
    await writeFile(file, Buffer.from('name = "caf\xe9"\nrules = []\n', 'latin1'));
    await expect(loadStandaloneConfig(file)).rejects.toMatchObject({
      code: 'config_unreadable',
      message: `${file}: cannot read the config file: it is not UTF-8 text`,
    });
  });

  it('reports the file in validation errors', async () => {
    const file = join(dir, 'bad.toml');
    await writeFile(file, rule({ listen: '"127.0.0.1:70000"' }));
    await expect(loadStandaloneConfig(file)).rejects.toMatchObject({
      code: 'config_invalid',
      details: { file },
      message: `${file}: rules[0].listen: port 70000 is out of range 1-65535`,
    });
  });
});
