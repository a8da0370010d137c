import { hostname } from 'node:os';
import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { NO_LIMITS, WEB_RULE_DEFAULTS } from './rule-defaults.fixture.ts';
import { limitsSchema, ruleSchema, standaloneConfigSchema } from './schema.ts';
import { validate } from './zod-issues.ts';

const WEB = { name: 'web', listen: '127.0.0.1:8080', targets: ['127.0.0.1:80'] };

function rule(input: Record<string, unknown>) {
  const result = validate(ruleSchema, input);
  if (!result.ok) throw new Error(result.issues.map((i) => `${i.path}: ${i.message}`).join('\n'));
  return result.value;
}

function ruleIssues(input: Record<string, unknown>) {
  const result = validate(ruleSchema, input);
  return result.ok ? [] : result.issues;
}

function limits(input: Record<string, unknown>) {
  const result = validate(limitsSchema, input);
  if (!result.ok) throw new Error(result.issues.map((i) => `${i.path}: ${i.message}`).join('\n'));
  return result.value;
}

describe('ruleSchema defaults', () => {
  it('fills every optional key', () => {
    expect(rule(WEB)).toEqual(WEB_RULE_DEFAULTS);
  });

  it('keeps every key that is given', () => {
    const spec = rule({
      ...WEB,
      targets: ['a.internal:80', 'b.internal:80'],
      protocol: 'udp',
      balance: 'round-robin',
      connect_timeout_ms: 500,
      half_close_timeout_secs: 1.5,
      idle_timeout_secs: 120,
      max_flows: 10,
      udp_receive_buffer: '512KiB',
      proxy_protocol: 'v2',
      owner: 'team-a',
      prefer_ipv6: true,
    });
    expect(spec).toMatchObject({
      targets: [
        { host: 'a.internal', portLo: 80, portHi: 80 },
        { host: 'b.internal', portLo: 80, portHi: 80 },
      ],
      protocol: 'udp',
      balance: 'round-robin',
      connectTimeoutMs: 500,
      halfCloseTimeoutMs: 1500,
      idleTimeoutMs: 120_000,
      maxFlows: 10,
      udpReceiveBufferBytes: 512 * 1024,
      proxyProtocol: 'v2',
      owner: 'team-a',
      preferIpv6: true,
    });
  });

  it('maps a port range onto bare targets and same-width ranges', () => {
    const spec = rule({
      name: 'r',
      listen: '0.0.0.0:8000-8009',
      targets: ['10.0.0.1', '10.0.0.2:9000-9009'],
    });
    expect(spec.listen).toEqual({ host: '0.0.0.0', portLo: 8000, portHi: 8009 });
    expect(spec.targets).toEqual([
      { host: '10.0.0.1', portLo: null, portHi: null },
      { host: '10.0.0.2', portLo: 9000, portHi: 9009 },
    ]);
  });
});

describe('limits', () => {
  it('applies bandwidth to both directions with one second of burst', () => {
    expect(limits({ bandwidth: '100Mbit' })).toEqual({
      ...NO_LIMITS,
      bandwidthIn: { bytesPerSec: 12_500_000, burstBytes: 12_500_000 },
      bandwidthOut: { bytesPerSec: 12_500_000, burstBytes: 12_500_000 },
    });
  });

  it('lets bandwidth_in and bandwidth_out override bandwidth per direction', () => {
    expect(limits({ bandwidth: '8Mbit', bandwidth_in: '1MiB/s' })).toMatchObject({
      bandwidthIn: { bytesPerSec: 1_048_576, burstBytes: 1_048_576 },
      bandwidthOut: { bytesPerSec: 1_000_000, burstBytes: 1_000_000 },
    });
    expect(limits({ bandwidth_out: '8Mbit' })).toMatchObject({
      bandwidthIn: null,
      bandwidthOut: { bytesPerSec: 1_000_000, burstBytes: 1_000_000 },
    });
  });

  it('takes burst as one second of the given rate, for every direction', () => {
    expect(limits({ bandwidth_in: '8Mbit', bandwidth_out: '16Mbit', burst: '80Mbit' })).toMatchObject({
      bandwidthIn: { bytesPerSec: 1_000_000, burstBytes: 10_000_000 },
      bandwidthOut: { bytesPerSec: 2_000_000, burstBytes: 10_000_000 },
    });
  });

  it('defaults the new-connection burst to the rate, and to at least one', () => {
    expect(limits({ new_connections_per_sec: 50, max_connections: 100 })).toEqual({
      ...NO_LIMITS,
      newConnectionsPerSec: 50,
      newConnectionsBurst: 50,
      maxConnections: 100,
    });
    expect(limits({ new_connections_per_sec: 50, new_connections_burst: 200 }).newConnectionsBurst).toBe(200);
    expect(limits({ new_connections_per_sec: 0.5 }).newConnectionsBurst).toBe(1);
  });

  it('is all null when empty', () => {
    expect(limits({})).toEqual(NO_LIMITS);
  });
});

describe('sni', () => {
  it('lower-cases names, keeps wildcards and lets targets be left out', () => {
    const spec = rule({
      name: 'tls',
      listen: '127.0.0.1:8443',
      sni: { 'A.Example.com': '127.0.0.1:9001', '*.example.org': '127.0.0.1:9002' },
    });
    expect(spec.targets).toEqual([]);
    expect(spec.sni).toEqual([
      { name: 'a.example.com', target: { host: '127.0.0.1', portLo: 9001, portHi: 9001 } },
      { name: '*.example.org', target: { host: '127.0.0.1', portLo: 9002, portHi: 9002 } },
    ]);
  });

  it('refuses bad names with the name in the path', () => {
    expect(ruleIssues({ ...WEB, sni: { 'a.*.com': '127.0.0.1:1', '*': '127.0.0.1:2' } })).toEqual([
      {
        path: 'sni."a.*.com"',
        message: expect.stringContaining('may use "*" only as the whole first label'),
      },
      { path: 'sni."*"', message: expect.stringContaining('may use "*" only as the whole first label') },
    ]);
  });
});

describe('ruleSchema checks across keys', () => {
  it('needs targets unless sni is given', () => {
    expect(ruleIssues({ name: 'a', listen: '127.0.0.1:1' })).toEqual([
      { path: 'targets', message: 'required key is missing (it may be left out only when sni is given)' },
    ]);
  });

  it('still checks targets against listen when another key is wrong', () => {
    const issues = ruleIssues({ ...WEB, targets: ['10.0.0.1'], balance: 'random' });
    expect(issues.map((i) => i.path)).toEqual(['balance', 'targets[0]']);
  });

  it('checks sni targets against listen', () => {
    expect(ruleIssues({ ...WEB, sni: { 'a.example.com': '10.0.0.1' } })).toEqual([
      { path: 'sni."a.example.com"', message: expect.stringContaining('has no port') },
    ]);
  });
});

describe('standaloneConfigSchema', () => {
  it('reads the example from DESIGN.md', () => {
    const toml = `
name = "edge-01"
shards = 2
metrics = "127.0.0.1:9464"
drain_timeout_secs = 30

[[rules]]
name = "web"
listen = "127.0.0.1:8080"
targets = ["127.0.0.1:80"]
protocol = "tcp"
balance = "failover"
connect_timeout_ms = 3000
proxy_protocol = "off"
accept_proxy = false
owner = "default"
limits = { bandwidth = "100Mbit", new_connections_per_sec = 50, max_connections = 100 }

[[rules]]
name = "tls"
listen = "127.0.0.1:8443"
sni = { "a.example.com" = "127.0.0.1:9001", "*.example.org" = "127.0.0.1:9002" }
targets = ["127.0.0.1:9003"]

[owners.default]
limits = { bandwidth = "1Gbit", max_connections = 1000 }
`;
    const result = validate(standaloneConfigSchema, parse(toml));
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    const config = result.value;
    expect(config).toMatchObject({
      name: 'edge-01',
      shards: 2,
      metrics: { host: '127.0.0.1', port: 9464 },
      drainTimeoutSecs: 30,
      owners: {
        default: {
          limits: {
            ...NO_LIMITS,
            bandwidthIn: { bytesPerSec: 125_000_000, burstBytes: 125_000_000 },
            bandwidthOut: { bytesPerSec: 125_000_000, burstBytes: 125_000_000 },
            maxConnections: 1000,
          },
        },
      },
    });
    expect(config.rules.map((r) => r.name)).toEqual(['web', 'tls']);
    expect(config.rules[0]!.limits).toEqual({
      bandwidthIn: { bytesPerSec: 12_500_000, burstBytes: 12_500_000 },
      bandwidthOut: { bytesPerSec: 12_500_000, burstBytes: 12_500_000 },
      newConnectionsPerSec: 50,
      newConnectionsBurst: 50,
      maxConnections: 100,
    });
    expect(config.rules[1]!.sni).toHaveLength(2);
    expect(config.rules[1]!.targets).toEqual([{ host: '127.0.0.1', portLo: 9003, portHi: 9003 }]);
  });

  it('defaults every top-level key but rules', () => {
    const result = validate(standaloneConfigSchema, { rules: [] });
    expect(result).toEqual({
      ok: true,
      value: {
        name: hostname(),
        shards: null,
        metrics: null,
        drainTimeoutSecs: 30,
        maxConnections: null,
        rules: [],
        owners: {},
      },
    });
  });

  it('reads max_connections, a whole number from 1 to 2^30', () => {
    const ok = validate(standaloneConfigSchema, { rules: [], max_connections: 1024 });
    expect(ok.ok && ok.value.maxConnections).toBe(1024);
    for (const bad of [0, 1.5, 2 ** 30 + 1, '1000']) {
      const result = validate(standaloneConfigSchema, { rules: [], max_connections: bad });
      expect(result.ok).toBe(false);
      expect(!result.ok && result.issues[0]!.path).toBe('max_connections');
    }
  });

  it('gives an owner with no limits table no limits', () => {
    const result = validate(standaloneConfigSchema, { rules: [], owners: { 'team-a': {} } });
    expect(result.ok && result.value.owners).toEqual({ 'team-a': { limits: NO_LIMITS } });
  });

  it('accepts metrics on IPv6 and drain_timeout_secs = 0', () => {
    const result = validate(standaloneConfigSchema, {
      rules: [],
      metrics: '[::1]:9464',
      drain_timeout_secs: 0,
    });
    expect(result.ok && result.value).toMatchObject({
      metrics: { host: '::1', port: 9464 },
      drainTimeoutSecs: 0,
    });
  });
});
