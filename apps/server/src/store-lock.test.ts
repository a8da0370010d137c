import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { rejectedCode } from '@sluice/test-kit';
import { describe, expect, it } from 'vitest';
import { acquireStoreLock } from './store-lock.ts';
import { tempDirEachTest } from './test-harness.ts';

let dir: string;

tempDirEachTest('sluice-lock-', (made) => {
  dir = made;
});

describe('store lock', () => {
  it('is held once per data dir, and free again after release', async () => {
    const lock = await acquireStoreLock(dir);
    expect(await rejectedCode(acquireStoreLock(dir))).toBe('store_in_use');
    mkdirSync(join(dir, 'other'));
    const other = await acquireStoreLock(join(dir, 'other'));
    await other.release();
    await lock.release();
    await (await acquireStoreLock(dir)).release();
  });

  const holderScript = (lockDir: string): string =>
    `import { acquireStoreLock } from ${JSON.stringify(new URL('./store-lock.ts', import.meta.url).href)};
     await acquireStoreLock(${JSON.stringify(lockDir)});
     process.stdout.write('locked\\n');
     setInterval(() => {}, 1000);`;

  it('is released when the process holding it dies, even by SIGKILL', async () => {
    const holder = spawn(process.execPath, ['--input-type=module', '-e', holderScript(dir)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await once(holder.stdout!, 'data');
    expect(await rejectedCode(acquireStoreLock(dir))).toBe('store_in_use');
    holder.kill('SIGKILL');
    await once(holder, 'exit');
    await (await acquireStoreLock(dir)).release();
  });

  it('holds against a server in another network namespace', async () => {
    // unshare -n: the holder has its own network namespace, as a second container would.
    const holder = spawn(
      'unshare',
      ['-n', process.execPath, '--input-type=module', '-e', holderScript(dir)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    await once(holder.stdout!, 'data');
    const refused = acquireStoreLock(dir);
    expect(await rejectedCode(refused)).toBe('store_in_use');
    await expect(acquireStoreLock(dir)).rejects.toThrow(`data dir ${dir} is in use by another sluice-server`);
    holder.kill('SIGKILL');
    await once(holder, 'exit');
  });
});
