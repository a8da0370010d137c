// sd_notify through the addon, against a real AF_UNIX datagram socket bound by python3.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotifySocket } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { systemdNotify } from './index.ts';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-notify-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function bound(path: string): Promise<NotifySocket> {
  const socket = await NotifySocket.bind(path);
  cleanups.push(() => socket.stop());
  return socket;
}

describe('systemdNotify', () => {
  it('sends each state as one datagram to a socket at a path', async () => {
    const socket = await bound(join(tempDir(), 'notify'));
    expect(systemdNotify('READY=1', { NOTIFY_SOCKET: socket.path })).toEqual({ sent: true });
    expect(systemdNotify(`MAINPID=${process.pid}\nREADY=1`, { NOTIFY_SOCKET: socket.path })).toEqual({
      sent: true,
    });
    await socket.waitFor((d) => d.startsWith('MAINPID='));
    expect(socket.datagrams).toEqual(['READY=1', `MAINPID=${process.pid}\nREADY=1`]);
  });

  it('sends to an abstract socket named with a leading @', async () => {
    const socket = await bound(`@sluice-notify-test-${process.pid}`);
    expect(systemdNotify('STOPPING=1', { NOTIFY_SOCKET: socket.path })).toEqual({ sent: true });
    expect(await socket.waitFor((d) => d === 'STOPPING=1')).toBe('STOPPING=1');
  });

  it('sends even when SLUICE_NO_SPLICE=1 turns the relay off', async () => {
    const socket = await bound(join(tempDir(), 'notify'));
    expect(systemdNotify('READY=1', { NOTIFY_SOCKET: socket.path, SLUICE_NO_SPLICE: '1' })).toEqual({
      sent: true,
    });
    await socket.waitFor((d) => d === 'READY=1');
  });

  it('says why it sent nothing', () => {
    expect(systemdNotify('READY=1', {})).toEqual({ sent: false, reason: 'NOTIFY_SOCKET is not set' });
    const nobody = join(tempDir(), 'nobody');
    expect(systemdNotify('READY=1', { NOTIFY_SOCKET: nobody })).toEqual({
      sent: false,
      reason: `sendto ${nobody}: ENOENT`,
    });
    expect(systemdNotify('READY=1', { NOTIFY_SOCKET: 'vsock:2:1234' })).toEqual({
      sent: false,
      reason: 'sendto vsock:2:1234: EAFNOSUPPORT',
    });
    expect(systemdNotify('READY=1', { NOTIFY_SOCKET: `/${'x'.repeat(200)}` })).toMatchObject({
      sent: false,
      reason: expect.stringContaining('ENAMETOOLONG'),
    });
  });
});
