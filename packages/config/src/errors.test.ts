import { describe, expect, it } from 'vitest';
import { CONFIG_ERRORS, configError } from './errors.ts';

describe('CONFIG_ERRORS', () => {
  it('has stable snake_case codes that all exit with 2', () => {
    expect([...CONFIG_ERRORS.codes].sort()).toEqual(['config_invalid', 'config_syntax', 'config_unreadable']);
    for (const [code, entry] of Object.entries(CONFIG_ERRORS.table)) {
      expect(code).toMatch(/^[a-z]+(_[a-z]+)*$/);
      expect(entry.exitCode).toBe(2);
    }
  });
});

describe('configError', () => {
  const issues = [
    { path: 'rules[1].listen', message: 'port 70000 is out of range 1-65535' },
    { path: 'owners.team-a.limits.max_connections', message: 'must be at least 1, found 0' },
  ];

  it('writes one FILE: PATH: REASON line per issue', () => {
    const error = configError('config_invalid', '/x/edge.toml', issues);
    expect(error).toBeInstanceOf(Error);
    expect(CONFIG_ERRORS.is(error)).toBe(true);
    expect(error.code).toBe('config_invalid');
    expect(error.details.file).toBe('/x/edge.toml');
    expect(error.exitCode).toBe(2);
    expect(error.details.issues).toEqual(issues);
    expect(error.message).toBe(
      '/x/edge.toml: rules[1].listen: port 70000 is out of range 1-65535\n' +
        '/x/edge.toml: owners.team-a.limits.max_connections: must be at least 1, found 0',
    );
  });

  it('names the whole document when an issue has no path', () => {
    const error = configError('config_invalid', '/x/edge.toml', [{ path: '', message: 'is empty' }]);
    expect(error.message).toBe('/x/edge.toml: (document): is empty');
  });

  it('puts line and column in syntax errors', () => {
    const error = configError('config_syntax', '/x/edge.toml', [{ path: '', message: 'invalid value' }], {
      line: 3,
      column: 7,
      excerpt: '3:  a = \n          ^\n',
    });
    expect(error.message).toBe('/x/edge.toml:3:7: not valid TOML: invalid value');
    expect(error.toData().details).toMatchObject({ line: 3, column: 7, excerpt: '3:  a = \n          ^\n' });
  });

  it('crosses threads as plain data', () => {
    const error = configError('config_unreadable', '/x/edge.toml', [
      { path: '', message: 'no such file (ENOENT)' },
    ]);
    const data = error.toData();
    expect(data).toEqual({
      code: 'config_unreadable',
      message: '/x/edge.toml: cannot read the config file: no such file (ENOENT)',
      details: {
        file: '/x/edge.toml',
        exitCode: 2,
        issues: [{ path: '', message: 'no such file (ENOENT)' }],
      },
    });
    expect(structuredClone(data)).toEqual(data);
    expect(Object.getPrototypeOf(data)).toBe(Object.prototype);
  });
});
