// How a hand-over starts the successor: by $SLUICE_LAUNCHER with the edge's own arguments, else
// by this Node with its flags and script; and what a successor that fails looks like.

import { pollUntil } from '@sluice/test-kit';
import { describe, expect, it } from 'vitest';
import { Successor, successorCommand } from './successor.ts';

describe('successorCommand', () => {
  it('runs the launcher with the same arguments', () => {
    expect(successorCommand({ SLUICE_LAUNCHER: '/opt/sluice/current/bin/sluice-edge' })).toEqual({
      program: '/opt/sluice/current/bin/sluice-edge',
      args: process.argv.slice(2),
    });
  });

  it('else runs this Node with its flags, script and arguments', () => {
    expect(successorCommand({ SLUICE_LAUNCHER: '' })).toEqual({
      program: process.execPath,
      args: [...process.execArgv, ...process.argv.slice(1)],
    });
  });
});

describe('Successor', () => {
  it('is not ready when it exits first, with how it exited', async () => {
    const successor = new Successor({ program: process.execPath, args: ['-e', 'process.exit(3)'] });
    expect(await successor.ready(20_000)).toEqual({
      ready: false,
      reason: 'the successor exited (code 3) before it was ready',
    });
  });

  it('is not ready when it cannot be started', async () => {
    const successor = new Successor({ program: '/nonexistent/sluice-edge', args: [] });
    expect(await successor.ready(20_000)).toMatchObject({
      ready: false,
      reason: expect.stringMatching(/^could not start \/nonexistent\/sluice-edge: .*ENOENT/),
    });
  });

  it('is given up and stopped when it says nothing in time', async () => {
    const successor = new Successor({
      program: process.execPath,
      args: ['-e', 'setTimeout(() => {}, 60000)'],
    });
    expect(await successor.ready(300)).toEqual({
      ready: false,
      reason: 'the successor was not ready within 0.3 s',
    });
    const pid = successor.pid!;
    const gone = (): true | undefined => {
      try {
        process.kill(pid, 0);
        return undefined;
      } catch {
        return true;
      }
    };
    await pollUntil(gone, {
      timeoutMs: 10_000,
      intervalMs: 20,
      what: `the silent successor ${pid} to be stopped`,
    });
  });

  it('is ready when it says so over the channel, with its rule count', async () => {
    const successor = new Successor({
      program: process.execPath,
      args: ['-e', "process.send({ type: 'ready', rules: 7 }); setTimeout(() => {}, 60000)"],
    });
    expect(await successor.ready(20_000)).toEqual({ ready: true, rules: 7 });
    successor.abandon();
  });
});
