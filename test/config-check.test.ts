// Each bad config gives its message: `sluice-edge --check --config FILE` exits 2 and its
// stderr's first line starts with the error code and names the file and the key path; a good
// file exits 0; starting the edge on a bad file fails the same way.

import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCleanup } from './helpers/cleanup.ts';
import { renderConfig, writeConfig } from './helpers/edge-config.ts';
import { runEdgeCommand } from './helpers/edge-process.ts';
import { makeTempDir } from './helpers/temp-dir.ts';

afterEach(runCleanup);

const HEAD = 'name = "e2e-edge"\nshards = 1\nmetrics = "127.0.0.1:19464"\n';
const rule = (name: string, listen: string, extra = ''): string =>
  `\n[[rules]]\nname = "${name}"\nlisten = "${listen}"\ntargets = ["127.0.0.1:19001"]\n${extra}`;

interface BadCase {
  readonly title: string;
  /** The file's text, or null for a file that does not exist. */
  readonly toml: string | null;
  readonly code: 'config_invalid' | 'config_syntax' | 'config_unreadable';
  /** The key path the message must name (absent for syntax and unreadable errors). */
  readonly path?: string;
  /** What the message must say about the reason. */
  readonly reason: RegExp;
}

const BAD_CASES: readonly BadCase[] = [
  {
    title: 'an unknown key in a rule',
    toml: HEAD + rule('a', '127.0.0.1:19101', 'colour = "blue"\n'),
    code: 'config_invalid',
    path: 'rules[0]',
    reason: /colour/,
  },
  {
    title: 'an unknown top-level key',
    toml: `shardz = 2\n${HEAD}${rule('a', '127.0.0.1:19101')}`,
    code: 'config_invalid',
    reason: /shardz/,
  },
  {
    title: 'a listen address without a port',
    toml: HEAD + rule('a', '127.0.0.1:19101') + rule('b', '127.0.0.1'),
    code: 'config_invalid',
    path: 'rules[1].listen',
    reason: /port|host:port/i,
  },
  {
    title: 'a listen port out of range',
    toml: HEAD + rule('a', '127.0.0.1:70000'),
    code: 'config_invalid',
    path: 'rules[0].listen',
    reason: /70000|65535|range/,
  },
  {
    title: 'a target port of 0',
    toml: `${HEAD}\n[[rules]]\nname = "a"\nlisten = "127.0.0.1:19101"\ntargets = ["127.0.0.1:0"]\n`,
    code: 'config_invalid',
    path: 'rules[0].targets[0]',
    reason: /port|range|65535/i,
  },
  {
    title: 'a duplicate rule name',
    toml: HEAD + rule('same', '127.0.0.1:19101') + rule('same', '127.0.0.1:19102'),
    code: 'config_invalid',
    path: 'rules[1].name',
    reason: /duplicate|already|unique/i,
  },
  {
    title: 'a rule without targets',
    toml: `${HEAD}\n[[rules]]\nname = "a"\nlisten = "127.0.0.1:19101"\ntargets = []\n`,
    code: 'config_invalid',
    path: 'rules[0].targets',
    reason: /target|at least|empty|1\.\.8/i,
  },
  {
    title: 'an unknown balance mode',
    toml: HEAD + rule('a', '127.0.0.1:19101', 'balance = "random"\n'),
    code: 'config_invalid',
    path: 'rules[0].balance',
    reason: /failover|round-robin|random/,
  },
  {
    title: 'a TOML syntax error',
    toml: `${HEAD}\n[[rules]]\nname = "a\nlisten = "127.0.0.1:19101"\n`,
    code: 'config_syntax',
    reason: /line|\d/i,
  },
  {
    title: 'a missing file',
    toml: null,
    code: 'config_unreadable',
    reason: /ENOENT|not found|no such file|does not exist/i,
  },
];

describe('config check', () => {
  it.each(BAD_CASES)('rejects $title with $code', async (bad) => {
    const dir = makeTempDir();
    const file = bad.toml === null ? join(dir, 'missing.toml') : writeConfig(dir, bad.toml, 'bad.toml');
    const result = await runEdgeCommand(['--check', '--config', file]);
    expect(result.code, result.stderr).toBe(2);
    const firstLine = result.stderr.split('\n')[0] ?? '';
    expect(firstLine.startsWith(bad.code), result.stderr).toBe(true);
    expect(result.stderr).toContain(file);
    if (bad.path !== undefined) expect(result.stderr).toContain(bad.path);
    expect(result.stderr).toMatch(bad.reason);
  });

  it('accepts a good file with exit 0', async () => {
    const dir = makeTempDir();
    const file = writeConfig(dir, {
      metricsPort: 19464,
      drainTimeoutSecs: 5,
      rules: [
        {
          name: 'a',
          listenPort: 19101,
          targetPorts: [19001, 19002],
          balance: 'round-robin',
          connectTimeoutMs: 300,
        },
        { name: 'b', listenPort: 19102, targetPorts: [19003], balance: 'failover', halfCloseTimeoutSecs: 2 },
      ],
    });
    const result = await runEdgeCommand(['--check', '--config', file]);
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
  });

  it('refuses to start on a bad file, with the same message and exit 2', async () => {
    const dir = makeTempDir();
    const toml = HEAD + rule('a', '127.0.0.1:19101') + rule('b', '127.0.0.1:nope');
    const file = writeConfig(dir, toml, 'bad.toml');
    const checked = await runEdgeCommand(['--check', '--config', file]);
    const started = await runEdgeCommand(['--config', file]);
    expect(started.code, started.stderr).toBe(2);
    expect(started.stderr.split('\n')[0]).toBe(checked.stderr.split('\n')[0]);
    expect(started.stderr).toContain('rules[1].listen');
  });

  it('renders the good config the same way the data-plane tests do', () => {
    // Guards the TOML every other test writes: keys as DESIGN.md names them.
    const text = renderConfig({
      metricsPort: 1,
      drainTimeoutSecs: 1,
      rules: [{ name: 'r', listenPort: 2, targetPorts: [3], connectTimeoutMs: 4, halfCloseTimeoutSecs: 5 }],
    });
    expect(text).toContain('metrics = "127.0.0.1:1"');
    expect(text).toContain('drain_timeout_secs = 1');
    expect(text).toContain('targets = ["127.0.0.1:3"]');
    expect(text).toContain('connect_timeout_ms = 4');
    expect(text).toContain('half_close_timeout_secs = 5');
  });
});
