// The CLI as an operator meets it: real processes on a real data dir.

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { API_ERRORS } from '@sluice/api';
import { pollUntil } from '@sluice/test-kit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SERVER_ERRORS } from './errors.ts';
import { tempDir } from './test-harness.ts';

const MAIN = new URL('./main.ts', import.meta.url).pathname;
const EPHEMERAL = ['--control', '127.0.0.1:0', '--api', '127.0.0.1:0', '--metrics', '127.0.0.1:0'];

let root: string;
const children: ChildProcess[] = [];

beforeEach(() => {
  root = tempDir('sluice-cli-');
});
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

interface Started {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly api: string;
}

/** Starts `serve` and waits for its ready line (logs are JSON lines on stderr). */
async function serve(dataDir: string): Promise<Started> {
  const child = spawn(process.execPath, [MAIN, 'serve', '--data-dir', dataDir, ...EPHEMERAL], {
    env: { ...process.env, SLUICE_LOG_FORMAT: 'json' },
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk) => (out += chunk));
  const api = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (chunk) => {
      err += chunk;
      for (const line of err.split('\n')) {
        if (!line.includes('sluice-server ready')) continue;
        resolve(JSON.parse(line).api as string);
      }
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
  return { child, stdout: () => out, api };
}

async function run(
  args: string[],
  stdin = '',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: { ...process.env, SLUICE_LOG_FORMAT: 'json' },
  });
  children.push(child);
  child.stdin.end(stdin);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

async function stop(started: Started): Promise<number | null> {
  started.child.kill('SIGTERM');
  const [code] = (await once(started.child, 'exit')) as [number | null];
  return code;
}

// Each test starts node processes; a loaded 2-core machine needs more than the default 5 s.
describe('sluice-server serve', { timeout: 60_000 }, () => {
  it('prints the admin token once, on first start; a second server on the same dir fails with store_in_use', async () => {
    const data = join(root, 'data');
    const first = await serve(data);
    // stdout and stderr are two pipes: the token may arrive after the ready line.
    await pollUntil(() => first.stdout().includes('\n'), { timeoutMs: 30_000, what: 'the admin token line' });
    const token = /^admin token: (slt_\S+)$/m.exec(first.stdout())?.[1];
    expect(token).toBeDefined();
    expect(statSync(data).mode & 0o777).toBe(0o700);
    expect(statSync(join(data, 'server.key')).mode & 0o777).toBe(0o600);
    const edges = await fetch(`http://${first.api}/v1/edges`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(await edges.json()).toEqual({ edges: [] });

    const second = await run(['serve', '--data-dir', data, ...EPHEMERAL]);
    expect(second.code).toBe(SERVER_ERRORS.table.store_in_use.exitCode);
    expect(second.stderr).toMatch(/^store_in_use: data dir .*data is in use by another sluice-server/);

    expect(await stop(first)).toBe(0);
    const again = await serve(data);
    expect(again.stdout()).not.toContain('admin token');
    expect(await stop(again)).toBe(0);
  });

  it('refuses a key others can read with key_insecure', async () => {
    const data = join(root, 'data');
    expect(await stop(await serve(data))).toBe(0);
    chmodSync(join(data, 'server.key'), 0o644);
    const result = await run(['serve', '--data-dir', data, ...EPHEMERAL]);
    expect(result.code).toBe(SERVER_ERRORS.table.key_insecure.exitCode);
    expect(result.stderr).toMatch(/^key_insecure: .*server\.key has mode 0644/);
  });

  it('says which flag is wrong', async () => {
    const result = await run(['serve', '--data-dir', join(root, 'data'), '--api', 'localhost']);
    expect(result.code).toBe(SERVER_ERRORS.table.usage.exitCode);
    expect(result.stderr).toMatch(/^usage: --api: "localhost" has no port/);
  });
});

describe('sluice-server user', { timeout: 60_000 }, () => {
  it('adds a user beside a running server; its token works at once, for its own rules only', async () => {
    const data = join(root, 'data');
    const running = await serve(data);
    const added = await run(['user', 'add', 'alice', '--data-dir', data]);
    expect(added.code).toBe(0);
    const token = /^token: (slt_\S+)$/m.exec(added.stdout)?.[1];
    const audit = await fetch(`http://${running.api}/v1/audit`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(audit.status).toBe(403);
    const rules = await fetch(`http://${running.api}/v1/rules`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(await rules.json()).toEqual({ rules: [] });
    const again = await run(['user', 'add', 'alice', '--data-dir', data]);
    expect(again.code).toBe(API_ERRORS.table.name_taken.exitCode);
    expect(again.stderr).toMatch(/^name_taken: user alice already exists/);
    expect((await run(['user', 'token', 'alice', '--data-dir', data])).stdout).toMatch(/^token: slt_/);
    expect((await run(['user', 'token', 'bob', '--data-dir', data])).code).toBe(
      API_ERRORS.table.not_found.exitCode,
    );
    await stop(running);
  });

  it('sets a password from stdin beside a running server: a new name is an admin who can log in', async () => {
    const data = join(root, 'data');
    const running = await serve(data);
    const login = (user: string, password: string) =>
      fetch(`http://${running.api}/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user, password }),
      });
    const made = await run(['user', 'password', 'root-console', '--data-dir', data], 'first password 1\n');
    expect(made).toMatchObject({ code: 0, stdout: 'made admin user root-console with that password\n' });
    const session = await login('root-console', 'first password 1');
    expect(session.status).toBe(200);
    expect(await session.json()).toMatchObject({
      name: 'root-console',
      role: 'admin',
      mustChangePassword: false,
    });
    const changed = await run(['user', 'password', 'root-console', '--data-dir', data], 'second password 2');
    expect(changed.stdout).toBe('password set for root-console\n');
    expect((await login('root-console', 'first password 1')).status).toBe(401);
    expect((await login('root-console', 'second password 2')).status).toBe(200);
    const short = await run(['user', 'password', 'root-console', '--data-dir', data], 'too short\n');
    expect(short.code).toBe(SERVER_ERRORS.table.usage.exitCode);
    expect(short.stderr).toMatch(/^usage: password: at least 12 characters/);
    expect((await login('root-console', 'second password 2')).status).toBe(200);
    await stop(running);
  });
});

describe('sluice-server backup and restore', { timeout: 60_000 }, () => {
  it('backs up a running server, and restores only where asked to', async () => {
    const data = join(root, 'data');
    const running = await serve(data);
    const out = join(root, 'backup.db');
    const backup = await run(['backup', '--data-dir', data, '--out', out]);
    expect(backup).toMatchObject({ code: 0, stderr: '' });
    expect(backup.stdout).toMatch(/^backup written: .*backup\.db/);

    const busy = await run(['restore', '--data-dir', data, '--in', out, '--force']);
    expect(busy.code).toBe(SERVER_ERRORS.table.store_in_use.exitCode);
    await stop(running);

    const refused = await run(['restore', '--data-dir', data, '--in', out]);
    expect(refused.code).toBe(SERVER_ERRORS.table.data_dir_not_empty.exitCode);
    expect(refused.stderr).toMatch(/^data_dir_not_empty: .*pass --force/);
    const forced = await run(['restore', '--data-dir', data, '--in', out, '--force']);
    expect(forced.code).toBe(0);

    const fresh = join(root, 'fresh');
    expect((await run(['restore', '--data-dir', fresh, '--in', out])).code).toBe(0);
    expect(existsSync(join(fresh, 'sluice.db'))).toBe(true);
    // The restored admin keeps its token: no new one is printed.
    const restored = await serve(fresh);
    expect(restored.stdout()).not.toContain('admin token');
    await stop(restored);
  });
});
