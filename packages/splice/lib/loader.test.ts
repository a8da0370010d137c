// The loader: every way of not getting the binding ends up, worded, in the reason.

import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spliceErrnoCode } from './index.ts';
import { BINARY_CANDIDATES, BUILD_FAILURE_FILE, LOAD_CHANNEL, loadBinding, PACKAGE_ROOT } from './loader.ts';

const roots: string[] = [];
function fakeRoot(files: Record<string, string> = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'sluice-splice-loader-'));
  roots.push(root);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe('splice loader', () => {
  it('is off with SLUICE_NO_SPLICE=1, before looking for a binary', () => {
    const result = loadBinding({ env: { SLUICE_NO_SPLICE: '1' }, root: fakeRoot() });
    expect(result).toEqual({ binding: null, enabled: false, reason: 'SLUICE_NO_SPLICE=1', attempts: [] });
  });

  it('is off on other platforms', () => {
    const result = loadBinding({ env: {}, platform: 'darwin' });
    expect(result.enabled).toBe(false);
    expect(result.reason).toBe('splice(2) is Linux-only (platform darwin)');
  });

  it('names every place it looked, and why the install-time build failed', () => {
    const root = fakeRoot({ [BUILD_FAILURE_FILE]: 'no C++ compiler (c++, g++ or clang++ not found)\n' });
    const result = loadBinding({ env: {}, platform: 'linux', root });
    expect(result.enabled).toBe(false);
    expect(result.attempts).toEqual(BINARY_CANDIDATES.map((path) => ({ path, error: 'not found' })));
    expect(result.reason).toBe(
      'no usable binary (build/Release/sluice_splice.node: not found; build/Debug/sluice_splice.node: not found; ' +
        'lib/sluice_splice.node: not found); ' +
        'install-time build: no C++ compiler (c++, g++ or clang++ not found)',
    );
  });

  it('records a binary that fails to load and goes on to the next place', () => {
    const root = fakeRoot({
      'build/Release/sluice_splice.node': 'not an ELF file',
      'build/Debug/other.cjs': 'module.exports = { init() {} };',
    });
    const result = loadBinding({
      env: {},
      platform: 'linux',
      root,
      candidates: ['build/Release/sluice_splice.node', 'build/Debug/other.cjs'],
    });
    expect(result.enabled).toBe(false);
    expect(result.attempts[0]?.error).toMatch(/^load failed: .*(invalid ELF header|too short)/);
    expect(result.attempts[1]?.error).toBe(
      'not a sluice splice binding (missing relay, destroy, stats, acceptGroup, acceptConfigure, acceptListen, acceptTargets, acceptClose, acceptDestroy, acceptDispose, acceptBudget, sdNotify, probeBind, udpListen, udpOpen, udpEnd, udpExpire, udpClose, udpCountDrops, udpReceiveBuffer)',
    );
    expect(result.reason).toContain('build/Release/sluice_splice.node: load failed:');
  });

  it('loads the built binary and publishes the outcome on sluice:splice:load', () => {
    const seen: unknown[] = [];
    const listener = (message: unknown): void => {
      seen.push(message);
    };
    subscribe(LOAD_CHANNEL, listener);
    try {
      const result = loadBinding({ env: {}, platform: 'linux' });
      expect(result.reason).toBe('loaded build/Release/sluice_splice.node');
      expect(typeof result.binding?.relay).toBe('function');
      expect(seen).toEqual([{ enabled: true, reason: result.reason, attempts: [] }]);
    } finally {
      unsubscribe(LOAD_CHANNEL, listener);
    }
  });

  it('loads only the binary SLUICE_SPLICE_ADDON names, before the usual places', () => {
    const built = join(PACKAGE_ROOT, BINARY_CANDIDATES[0]);
    const result = loadBinding({ env: { SLUICE_SPLICE_ADDON: built }, platform: 'linux', root: fakeRoot() });
    expect(result.reason).toBe(`loaded ${built} (SLUICE_SPLICE_ADDON)`);
    expect(typeof result.binding?.relay).toBe('function');
  });

  it('does not fall back to the usual places when the SLUICE_SPLICE_ADDON binary does not load', () => {
    const missing = join(fakeRoot(), 'asan', 'sluice_splice.node');
    const result = loadBinding({ env: { SLUICE_SPLICE_ADDON: missing }, platform: 'linux' });
    expect(result.enabled).toBe(false);
    expect(result.binding).toBeNull();
    expect(result.reason).toBe(`SLUICE_SPLICE_ADDON=${missing}: not found`);
    expect(result.attempts).toEqual([{ path: missing, error: 'not found' }]);
  });

  it('maps errno values (either sign) to their codes', () => {
    expect(spliceErrnoCode(104)).toBe('ECONNRESET');
    expect(spliceErrnoCode(-9)).toBe('EBADF');
    expect(spliceErrnoCode(100000)).toBe('errno 100000');
  });
});
