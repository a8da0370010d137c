import { describe, expect, it } from 'vitest';
import { relayMaxConnections } from '../fd-budget.ts';
import { nginxConfig } from './nginx.ts';
import { bandwidthText, edgeConfigToml } from './sluice-edge.ts';
import { socatTcpArgs, socatUdpArgs } from './socat.ts';

describe('nginx stream config', () => {
  const base = {
    prefix: '/tmp/x',
    listenPort: 9000,
    targetPort: 9001,
    streamModule: null,
    fileLimit: 20_000,
  };

  it('relays TCP in the foreground with 2 workers and its own pid file', () => {
    const config = nginxConfig({ ...base, udp: false });
    expect(config).toContain('daemon off;');
    expect(config).toContain('worker_processes 2;');
    expect(config).toContain('pid /tmp/x/nginx.pid;');
    expect(config).toContain('listen 127.0.0.1:9000;');
    expect(config).toContain('proxy_pass 127.0.0.1:9001;');
    expect(config).not.toContain('udp');
    expect(config).not.toContain('load_module');
  });

  it('adds a UDP server on the same port (reuseport) and loads a dynamic stream module', () => {
    const config = nginxConfig({
      ...base,
      udp: true,
      streamModule: '/usr/lib/nginx/modules/ngx_stream_module.so',
    });
    expect(config.split('\n')[0]).toBe('load_module /usr/lib/nginx/modules/ngx_stream_module.so;');
    expect(config).toContain('listen 127.0.0.1:9000 udp reuseport;');
    expect(config.match(/proxy_pass 127\.0\.0\.1:9001;/g)).toHaveLength(2);
  });
});

describe('socat arguments', () => {
  it('forks a child per TCP connection and per UDP peer, with a 64 KiB buffer', () => {
    expect(socatTcpArgs(9000, 9001)).toEqual([
      '-b',
      '65536',
      'TCP4-LISTEN:9000,bind=127.0.0.1,reuseaddr,fork,backlog=4096',
      'TCP4:127.0.0.1:9001',
    ]);
    expect(socatUdpArgs(9000, 9001).slice(-2)).toEqual([
      'UDP4-LISTEN:9000,bind=127.0.0.1,reuseaddr,fork',
      'UDP4:127.0.0.1:9001',
    ]);
  });
});

describe('sluice edge config', () => {
  it('writes caps as sluice reads them', () => {
    expect([10e6, 100e6, 1e9, 2.5e9, 1500].map(bandwidthText)).toEqual([
      '10Mbit',
      '100Mbit',
      '1Gbit',
      '2500Mbit',
      '1500bit',
    ]);
  });

  it('has no limits unless asked, then caps the rule or its owner', () => {
    expect(edgeConfigToml(1, 9000, 9001)).not.toContain('limits');
    const rule = edgeConfigToml(2, 9000, 9001, { cap: { bitsPerSecond: 1e9, scope: 'rule' } });
    expect(rule).toContain('shards = 2\n');
    expect(rule).toContain(`max_connections = ${relayMaxConnections()}\n`);
    expect(rule).toContain('targets = ["127.0.0.1:9001"]\nlimits = { bandwidth = "1Gbit" }\n');
    expect(rule).not.toContain('owner');
    const owner = edgeConfigToml(1, 9000, 9001, { cap: { bitsPerSecond: 10e6, scope: 'owner' } });
    expect(owner).toContain('owner = "bench"\n\n[owners.bench]\nlimits = { bandwidth = "10Mbit" }\n');
    expect(owner.match(/limits/g)).toHaveLength(1);
  });

  it('adds a UDP rule on the same ports only when asked, after any owner table', () => {
    expect(edgeConfigToml(1, 9000, 9001)).not.toContain('udp');
    const udp = edgeConfigToml(2, 9000, 9001, { udp: true, cap: { bitsPerSecond: 1e9, scope: 'owner' } });
    expect(udp.match(/\[\[rules\]\]/g)).toHaveLength(2);
    expect(udp).toMatch(
      /\[owners\.bench\][^[]*\n\n\[\[rules\]\]\nname = "bench-udp"\nprotocol = "udp"\nlisten = "127\.0\.0\.1:9000"\ntargets = \["127\.0\.0\.1:9001"\]\n$/,
    );
  });
});
