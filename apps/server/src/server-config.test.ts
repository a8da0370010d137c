import { rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { SluiceError } from '@sluice/errors';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadServerConfig } from './server-config.ts';
import { tempDir } from './test-harness.ts';

let dir: string;

beforeEach(() => {
  dir = tempDir('sluice-config-');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function error(fn: () => unknown): SluiceError {
  try {
    fn();
  } catch (caught) {
    if (caught instanceof SluiceError) return caught;
    throw caught;
  }
  throw new Error('no error');
}

describe('server config', () => {
  it('has the documented defaults; enrollment URIs name the host when the control listener is a wildcard', () => {
    expect(loadServerConfig({})).toEqual({
      control: { host: '0.0.0.0', port: 7443 },
      api: { host: '127.0.0.1', port: 7080 },
      metrics: { host: '127.0.0.1', port: 7081 },
      advertise: { host: hostname(), port: 7443 },
      ackTimeoutMs: 2000,
      statsIntervalMs: 5000,
      helloTimeoutMs: 10_000,
      tenants: { targetsAllowed: [], maxRulesPerEdge: 100, maxPortsPerEdge: 1024 },
      store: null,
    });
  });

  it('reads the TOML file, and flags win over it', () => {
    const file = join(dir, 'server.toml');
    writeFileSync(
      file,
      'control = "10.0.0.1:9443"\napi = "[::1]:8080"\nack_timeout_ms = 500\nstats_interval_secs = 2\nhello_timeout_ms = 3000\nstore = "postgres://db/sluice"\n',
    );
    const config = loadServerConfig({ config: file, api: '127.0.0.1:9000' });
    expect(config.store).toBe('postgres://db/sluice');
    expect(loadServerConfig({ config: file, store: 'postgresql://other/s' }).store).toBe(
      'postgresql://other/s',
    );
    expect(error(() => loadServerConfig({ store: ' ' })).message).toContain('--store');
    expect(config).toMatchObject({
      control: { host: '10.0.0.1', port: 9443 },
      api: { host: '127.0.0.1', port: 9000 },
      advertise: { host: '10.0.0.1', port: 9443 },
      ackTimeoutMs: 500,
      statsIntervalMs: 2000,
      helloTimeoutMs: 3000,
    });
  });

  it('names the file, the key and the reason', () => {
    const file = join(dir, 'server.toml');
    writeFileSync(file, 'control = "nowhere"\nack_timout_ms = 5\n');
    const invalid = error(() => loadServerConfig({ config: file }));
    expect(invalid.code).toBe('config_invalid');
    expect(invalid.message).toContain(`${file}: control: "nowhere" has no port`);
    expect(invalid.message).toContain(
      `${file}: ack_timout_ms: unknown key "ack_timout_ms"; did you mean "ack_timeout_ms"?`,
    );
    writeFileSync(file, 'control = \n');
    expect(error(() => loadServerConfig({ config: file })).message).toMatch(
      /server\.toml:1:\d+: not valid TOML/,
    );
    expect(error(() => loadServerConfig({ config: join(dir, 'missing.toml') })).message).toMatch(
      /cannot read the config file/,
    );
    expect(error(() => loadServerConfig({ metrics: '1.2.3.4' })).message).toBe(
      '--metrics: "1.2.3.4" has no port; use host:port or host:lo-hi',
    );
  });
});
