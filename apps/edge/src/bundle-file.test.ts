import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle } from '@sluice/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { prepareBundleFile, readBundleFile, writeBundleFile } from './bundle-file.ts';
import { EDGE_ERRORS, type EdgeError } from './errors.ts';

const BUNDLE: Bundle = {
  version: 2,
  servers: [
    { host: '127.0.0.1', port: 7443 },
    { host: '::1', port: 7444 },
  ],
  pin: 'ab'.repeat(32),
  edgeId: 'e1',
  name: 'edge-01',
  secret: 'secret-value',
};

let dir: string;
let umask: number | null = null;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-bundle-'));
});
afterEach(() => {
  if (umask !== null) process.umask(umask);
  umask = null;
  rmSync(dir, { recursive: true, force: true });
});

function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (err: unknown) => (EDGE_ERRORS.is(err) ? err.code : `not an edge error: ${String(err)}`),
  );
}

describe('bundle file', () => {
  it('is written at mode 0600 even under a umask that opens everything, and reads back', async () => {
    umask = process.umask(0);
    const file = await writeBundleFile(join(dir, 'edge.bundle'), BUNDLE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(BUNDLE);
    expect(await readBundleFile(file)).toEqual(BUNDLE);
    expect(readdirSync(dir)).toEqual(['edge.bundle']);
  });

  it('reads a version 1 file (one server) as version 2 with a list of one', async () => {
    const file = join(dir, 'edge.bundle');
    const { servers, version: _, ...credentials } = BUNDLE;
    const v1 = { version: 1, server: { host: '10.0.0.1', port: 7443 }, ...credentials };
    writeFileSync(file, JSON.stringify(v1), { mode: 0o600 });
    expect(await readBundleFile(file)).toEqual({
      version: 2,
      servers: [{ host: '10.0.0.1', port: 7443 }],
      ...credentials,
    });
  });

  it('names the bad address of a version 2 file', async () => {
    const file = join(dir, 'edge.bundle');
    const servers = [
      { host: '127.0.0.1', port: 7443 },
      { host: '127.0.0.1', port: 0 },
    ];
    writeFileSync(file, JSON.stringify({ ...BUNDLE, servers }), { mode: 0o600 });
    const err = await readBundleFile(file).catch((e: EdgeError) => e);
    expect(err).toMatchObject({ code: 'bundle_invalid' });
    expect((err as EdgeError).message).toContain('servers.1.port');
  });

  it('is never visible with another mode: the temporary file is 0600 from creation', async () => {
    umask = process.umask(0);
    const pending = await prepareBundleFile(join(dir, 'edge.bundle'));
    const [temp] = readdirSync(dir);
    expect(temp).toMatch(/^\.edge\.bundle\.\d+\.tmp$/);
    expect(statSync(join(dir, temp!)).mode & 0o777).toBe(0o600);
    await pending.commit(BUNDLE);
    expect(readdirSync(dir)).toEqual(['edge.bundle']);
  });

  it('refuses to replace an existing file unless forced; abort leaves nothing behind', async () => {
    const file = join(dir, 'edge.bundle');
    writeFileSync(file, 'old', { mode: 0o600 });
    expect(await codeOf(prepareBundleFile(file))).toBe('bundle_exists');
    const pending = await prepareBundleFile(file, { force: true });
    await pending.abort();
    expect(readFileSync(file, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['edge.bundle']);
    await writeBundleFile(file, BUNDLE, { force: true });
    expect(await readBundleFile(file)).toEqual(BUNDLE);
  });

  it('says so when the directory cannot take the file', async () => {
    expect(await codeOf(prepareBundleFile(join(dir, 'missing', 'edge.bundle')))).toBe('bundle_unwritable');
  });

  it('refuses a bundle group or others can read, naming the mode and the fix', async () => {
    const file = await writeBundleFile(join(dir, 'edge.bundle'), BUNDLE);
    for (const mode of [0o640, 0o604, 0o644]) {
      chmodSync(file, mode);
      const err = await readBundleFile(file).catch((e: unknown) => e);
      expect(EDGE_ERRORS.is(err)).toBe(true);
      expect((err as EdgeError).code).toBe('bundle_insecure');
      expect((err as EdgeError).message).toContain(`mode 0${mode.toString(8)}`);
      expect((err as EdgeError).message).toContain('chmod 600');
    }
    chmodSync(file, 0o400);
    expect(await readBundleFile(file)).toEqual(BUNDLE);
  });

  it('names what is wrong with a file that is not a bundle', async () => {
    const file = join(dir, 'edge.bundle');
    expect(await codeOf(readBundleFile(file))).toBe('bundle_unreadable');
    writeFileSync(file, '{not json', { mode: 0o600 });
    expect(await codeOf(readBundleFile(file))).toBe('bundle_invalid');
    writeFileSync(file, JSON.stringify({ ...BUNDLE, pin: 'xyz' }), { mode: 0o600 });
    const err = (await readBundleFile(file).catch((e: unknown) => e)) as EdgeError;
    expect(err.code).toBe('bundle_invalid');
    expect(err.message).toContain('pin');
  });
});
