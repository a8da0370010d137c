import type { SluiceError } from '@sluice/errors';
import { describe, expect, it } from 'vitest';
import { CTL_ERRORS } from './errors.ts';
import { resolveServerSettings } from './server-settings.ts';

function failure(run: () => unknown): SluiceError {
  try {
    run();
  } catch (error) {
    if (CTL_ERRORS.is(error)) return error;
    throw error;
  }
  throw new Error('expected a sluicectl error');
}

describe('resolveServerSettings', () => {
  it('takes the flags over the environment', () => {
    const settings = resolveServerSettings(
      { server: 'http://10.0.0.1:7080', token: 'flag-token' },
      { SLUICE_SERVER: 'http://127.0.0.1:7080', SLUICE_TOKEN: 'env-token' },
    );
    expect(settings.server.href).toBe('http://10.0.0.1:7080/');
    expect(settings.token).toBe('flag-token');
    expect(settings.timeoutMs).toBe(30_000);
  });

  it('falls back to SLUICE_SERVER and SLUICE_TOKEN', () => {
    const settings = resolveServerSettings(
      {},
      { SLUICE_SERVER: 'https://ctl.example.com/sluice', SLUICE_TOKEN: 't' },
    );
    expect(settings.server.href).toBe('https://ctl.example.com/sluice');
    expect(settings.token).toBe('t');
  });

  it('names both ways to give a missing server and token', () => {
    const error = failure(() => resolveServerSettings({}, {}));
    expect(error.code).toBe('config_missing');
    expect(error.exitCode).toBe(3);
    expect(error.message).toBe(
      'no server: pass --server URL or set SLUICE_SERVER; no token: pass --token TOKEN or set SLUICE_TOKEN',
    );
  });

  it('counts an empty value as missing', () => {
    const error = failure(() => resolveServerSettings({ server: 'http://h:1' }, { SLUICE_TOKEN: ' ' }));
    expect(error.message).toBe('no token: pass --token TOKEN or set SLUICE_TOKEN');
  });

  it.each([
    [
      { server: '127.0.0.1:7080', token: 't' },
      {},
      /^--server "127.0.0.1:7080" is not an http:\/\/ or https:\/\/ URL/,
    ],
    [{ server: 'localhost:7080', token: 't' }, {}, /^--server "localhost:7080" is not/],
    [{ token: 't' }, { SLUICE_SERVER: 'ftp://h' }, /^SLUICE_SERVER "ftp:\/\/h" is not/],
  ])('refuses a server that is not an http URL, naming where it came from', (flags, env, message) => {
    const error = failure(() => resolveServerSettings(flags, env));
    expect(error.code).toBe('bad_usage');
    expect(error.message).toMatch(message);
  });

  it('reads --timeout in seconds', () => {
    expect(resolveServerSettings({ server: 'http://h', token: 't', timeout: '0.5' }, {}).timeoutMs).toBe(500);
    for (const timeout of ['0', '-1', 'soon', '']) {
      const error = failure(() => resolveServerSettings({ server: 'http://h', token: 't', timeout }, {}));
      expect(error.code).toBe('bad_usage');
      expect(error.message).toMatch(/^--timeout /);
    }
  });
});
