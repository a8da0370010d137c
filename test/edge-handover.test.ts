// SIGUSR2 hands a running edge over to a new process (docs/operations.md "Restarting and
// upgrading without dropping connections"): the successor binds beside it, the old edge stops
// accepting once the successor is ready, drains and exits 0. Under a steady stream of new
// connections and one long transfer no connection is refused or reset; a successor that cannot
// start leaves the old edge serving; systemd hears READY=1, then MAINPID and READY=1 from the
// successor. The load runs in a network namespace of the test's own, where
// net.ipv4.tcp_migrate_req is 1, so connections queued on the old listeners move to the new ones.

import { createServer } from 'node:net';
import { join } from 'node:path';
import { freePort, NotifySocket, pollUntil } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { deferCleanup, listenUntilCleanup, runCleanup } from './helpers/cleanup.ts';
import { writeConfig } from './helpers/edge-config.ts';
import { startEdge } from './helpers/edge-process.ts';
import { processExit, successorOf, writeLauncher } from './helpers/handover.ts';
import { HandoverLoad } from './helpers/handover-load.ts';
import { createNetns } from './helpers/netns.ts';
import type { RelayPath } from './helpers/relay-paths.ts';
import { startEchoTarget } from './helpers/target-server.ts';
import { echoRoundTrip } from './helpers/tcp-client.ts';
import { makeTempDir } from './helpers/temp-dir.ts';
import { startUdpEcho, udpClient } from './helpers/udp.ts';

afterEach(runCleanup);

/** New connections per second, each a 32-byte round trip. */
const RATE = 1_000;
/** The long transfer writes 64 KiB every 10 ms (about 6 MiB/s) until told to finish. */
const CHUNK = 64 * 1024;
const CHUNK_EVERY_MS = 10;

// The native path (the addon accepts) and the JS path (node:net accepts): each closes its own
// listeners, and each must leave its queued connections to the successor's.
describe.each<RelayPath>(['native', 'js'])('hand-over under load (%s path)', (relayPath) => {
  it('refuses and resets no connection, and the long transfer completes intact', async () => {
    const netns = createNetns({ 'net.ipv4.tcp_migrate_req': '1' });
    const load = await HandoverLoad.start(netns, RATE, CHUNK, CHUNK_EVERY_MS);
    const dir = makeTempDir();
    const configFile = writeConfig(dir, {
      shards: 2,
      metricsPort: await freePort(),
      drainTimeoutSecs: 60,
      rules: [{ name: 'echo', listenPort: load.listen, targetPorts: [load.target] }],
    });
    // Started as the release starts it: the successor is started by the same launcher.
    const launcher = writeLauncher(dir);
    const edge = await startEdge({
      configFile,
      relayPath,
      netns,
      launcher,
      env: { SLUICE_LAUNCHER: launcher },
    });

    await load.go();
    await load.after(1_000);
    const before = edge.mark();
    edge.signal('SIGUSR2');
    const successor = await successorOf(edge, before);
    expect(successor).not.toBe(edge.pid);
    // The old edge drains the long transfer; the new connections go to the successor meanwhile.
    await load.after(1_000);
    const transfer = await load.finishTransfer();
    expect(await processExit(edge.child, 60_000)).toEqual({ code: 0, signal: null });
    await load.after(500);
    const results = await load.stop();
    console.log(
      `hand-over under load (${relayPath}): ${results.ok} round trips, ${results.refused} refused, ` +
        `${results.reset} reset, longest gap between round trips ${results.longestGapMs.toFixed(1)} ms, ` +
        `slowest round trip ${results.slowestMs.toFixed(1)} ms; transfer ${transfer.sent} bytes`,
    );
    expect(results).toMatchObject({ refused: 0, reset: 0, corrupt: 0, stalled: 0, errors: {}, inFlight: 0 });
    expect(results.ok).toBe(results.started);
    expect(transfer).toMatchObject({ intact: true, error: null });
    // The transfer spanned the hand-over: tens of MiB at ~6 MiB/s, not a few chunks.
    expect(transfer.sent).toBeGreaterThan(8 * 1024 * 1024);
    expect(edge.find('hand-over: successor ready; draining', { pid: edge.pid }, before)).toBeDefined();
    expect(edge.find('hand-over: queued connections may be reset', {}, before)).toBeUndefined();
  });
});

describe('hand-over on SIGUSR2', () => {
  it('keeps serving when the successor fails, and tells systemd who the main process is', async () => {
    const notify = await NotifySocket.bind(join(makeTempDir(), 'notify'));
    deferCleanup(() => notify.stop());
    const echo = await startEchoTarget();
    const dir = makeTempDir();
    const listenPort = await freePort();
    const config = {
      shards: 1,
      metricsPort: await freePort(),
      rules: [{ name: 'echo', listenPort, targetPorts: [echo.port] }],
    };
    const configFile = writeConfig(dir, config);
    const edge = await startEdge({ configFile, relayPath: 'native', env: { NOTIFY_SOCKET: notify.path } });
    await notify.waitFor((d) => d === 'READY=1');
    /** SIGUSR2, and the reason of the failure the old edge logs. */
    const failedHandOver = async (): Promise<unknown> => {
      const from = edge.mark();
      edge.signal('SIGUSR2');
      const failed = await edge.waitForMsg(
        'hand-over failed: this edge keeps serving',
        { pid: edge.pid },
        30_000,
        from,
      );
      return failed.reason;
    };

    // A successor that exits (its config no longer loads): the old edge logs why and serves on.
    writeConfig(dir, '[[rules]]\nname = "broken"\n');
    expect(await failedHandOver()).toBe('the successor exited (code 2) before it was ready');
    expect(edge.otherOutput).toContain('config_invalid');
    await echoRoundTrip(listenPort, 'still served');
    expect(edge.child.exitCode).toBeNull();

    // A successor in which a rule does not bind (a socket without SO_REUSEPORT holds its port)
    // refuses to take over: the hand-over would drop that rule.
    const holder = createServer();
    const heldPort = await listenUntilCleanup(holder, []);
    writeConfig(dir, {
      ...config,
      rules: [...config.rules, { name: 'held', listenPort: heldPort, targetPorts: [echo.port] }],
    });
    let from = edge.mark();
    expect(await failedHandOver()).toBe('the successor exited (code 1) before it was ready');
    const why = edge.find(
      'hand-over refused: not every rule is active in the successor; the running edge keeps serving',
      {},
      from,
    );
    expect(why?.failed).toEqual([{ rule: 'held', state: 'failed', reason: 'port_in_use' }]);
    await echoRoundTrip(listenPort, 'still served after a refusal');

    // Fixed, the next SIGUSR2 hands over: systemd hears the successor's pid, the old edge exits 0.
    writeConfig(dir, config);
    from = edge.mark();
    const seen = notify.datagrams.length;
    edge.signal('SIGUSR2');
    const successor = await successorOf(edge, from);
    expect(await notify.waitFor((d) => d.startsWith('MAINPID='), 20_000, seen)).toBe(
      `MAINPID=${successor}\nREADY=1`,
    );
    expect(await processExit(edge.child, 30_000)).toEqual({ code: 0, signal: null });
    await echoRoundTrip(listenPort, 'served by the successor');
    // The old edge's drain is no stop of the service: only the main process says STOPPING=1.
    expect(notify.datagrams.slice(seen)).toEqual([`MAINPID=${successor}\nREADY=1`]);
    from = edge.mark();
    process.kill(successor, 'SIGTERM');
    await edge.waitForMsg('stopped', { pid: successor }, 30_000, from);
    expect(await notify.waitFor((d) => d === 'STOPPING=1', 10_000, seen)).toBe('STOPPING=1');
  });

  it('moves UDP clients to the successor: their next datagram opens a flow there', async () => {
    const echo = await startUdpEcho('u');
    const listenPort = await freePort();
    const dir = makeTempDir();
    const configFile = writeConfig(
      dir,
      `shards = 1\n[[rules]]\nname = "dns"\nprotocol = "udp"\nlisten = "127.0.0.1:${listenPort}"\ntargets = ["127.0.0.1:${echo.port}"]\n`,
    );
    const edge = await startEdge({ configFile, relayPath: 'native' });
    const client = await udpClient();
    const reply = async (message: string): Promise<string> => {
      await client.send(message, listenPort);
      return pollUntil(() => client.replies.map(String).find((r) => r === `u:${message}`), {
        timeoutMs: 5_000,
        intervalMs: 20,
        what: `the echo of ${message}`,
      });
    };
    await reply('before');
    const from = edge.mark();
    edge.signal('SIGUSR2');
    await successorOf(edge, from);
    expect(await processExit(edge.child, 30_000)).toEqual({ code: 0, signal: null });
    expect(await reply('after')).toBe('u:after');
    // The old edge's flow ended with it: the successor's flow reaches the target from another port.
    expect(echo.peers.size).toBe(2);
  });
});
