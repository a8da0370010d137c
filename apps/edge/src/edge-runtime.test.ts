// The drain, run the same way in both modes: a standalone edge (FileRuleSource, a TOML file) and a
// managed one (ServerRuleSource, a fake control server on loopback). The two used to be separate
// classes that disagreed on when idle metrics connections are closed; this test fails if a mode
// drains differently again.

import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadStandaloneConfig } from '@sluice/config';
import { FakeControlServer, freePort, makeCertificate, tcpRule } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { EdgeRuntime } from './edge-runtime.ts';
import { capturingLogger, type LogLine, startEchoServer } from './edge-test-support.fixture.ts';
import { FileRuleSource, runtimeSettings } from './file-rule-source.ts';
import { ServerRuleSource } from './server-rule-source.ts';

// Long enough for the checks made during the drain on a loaded machine.
const DRAIN_TIMEOUT_SECS = 3;
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function echoTarget(): Promise<number> {
  const echo = await startEchoServer();
  cleanups.push(() => echo.close());
  return echo.port;
}

async function connect(port: number): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  cleanups.push(() => void socket.destroy());
  await once(socket, 'connect');
  return socket;
}

/** The socket closed, by a FIN or a reset (events.once would reject on the reset). */
function closed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => socket.once('close', () => resolve()));
}

/** Writes `text` and reads the same number of bytes back. */
function echoOnce(socket: net.Socket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const onData = (chunk: Buffer): void => {
      got += chunk.toString('utf8');
      if (got.length < text.length) return;
      socket.off('data', onData);
      socket.off('close', onClose);
      resolve(got);
    };
    const onClose = (): void => reject(new Error(`closed after ${JSON.stringify(got)}, before the echo`));
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.write(text);
  });
}

/** The error code of a fresh connection to `port`, or null when it connects. */
async function connectError(port: number): Promise<string | null> {
  const socket = net.connect({ host: '127.0.0.1', port });
  try {
    await once(socket, 'connect');
    return null;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? String(err);
  } finally {
    socket.destroy();
  }
}

/** Polls until a fresh connection to `port` is refused (shards close listeners asynchronously). */
async function refused(port: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  while ((await connectError(port)) !== 'ECONNREFUSED') {
    if (Date.now() > deadline) throw new Error(`127.0.0.1:${port} still accepts connections`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A keep-alive HTTP/1.1 connection that made one request and now sits idle. */
async function idleMetricsConnection(port: number): Promise<net.Socket> {
  const socket = await connect(port);
  const response = await new Promise<string>((resolve) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('utf8');
      // The body is chunked (no content-length): it ends with the zero-size chunk.
      if (!text.endsWith('\r\n0\r\n\r\n')) return;
      socket.off('data', onData);
      resolve(text);
    };
    socket.on('data', onData);
    socket.write('GET /healthz HTTP/1.1\r\nHost: edge\r\n\r\n');
  });
  expect(response).toMatch(/^HTTP\/1\.1 200 /);
  expect(response.toLowerCase()).toContain('connection: keep-alive');
  return socket;
}

interface Started {
  readonly runtime: EdgeRuntime;
  readonly listenPort: number;
}

/** A standalone config file, one TCP rule per entry, each to an echo target on 127.0.0.1. */
function writeConfig(
  file: string,
  rules: readonly { name: string; listenPort: number; targetPort: number }[],
): void {
  const lines = ['name = "edge-1"', 'shards = 1', `drain_timeout_secs = ${DRAIN_TIMEOUT_SECS}`];
  for (const rule of rules) {
    lines.push(
      '[[rules]]',
      `name = "${rule.name}"`,
      `listen = "127.0.0.1:${rule.listenPort}"`,
      `targets = ["127.0.0.1:${rule.targetPort}"]`,
    );
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
}

function configFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-runtime-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'edge.toml');
}

/** An EdgeRuntime with a FileRuleSource on `file`, not started yet. */
async function standaloneRuntime(file: string, logs: LogLine[]): Promise<EdgeRuntime> {
  const config = await loadStandaloneConfig(file);
  const runtime = new EdgeRuntime({
    ...runtimeSettings(config),
    metrics: { host: '127.0.0.1', port: 0 },
    source: new FileRuleSource(config),
    log: capturingLogger(logs),
  });
  cleanups.push(() => runtime.stop());
  return runtime;
}

/** A standalone edge from a TOML file with one rule, listenPort -> an echo target. */
async function standalone(logs: LogLine[]): Promise<Started> {
  const [listenPort, targetPort] = [await freePort(), await echoTarget()];
  const file = configFile();
  writeConfig(file, [{ name: 'web', listenPort, targetPort }]);
  const runtime = await standaloneRuntime(file, logs);
  await runtime.start();
  return { runtime, listenPort };
}

/** A managed edge whose server pushed one rule, listenPort -> an echo target. */
async function managed(logs: LogLine[]): Promise<Started> {
  const [listenPort, targetPort] = [await freePort(), await echoTarget()];
  const server = await FakeControlServer.start({ certificate: makeCertificate() });
  cleanups.push(() => server.close());
  const bundle = {
    version: 2 as const,
    servers: [{ host: '127.0.0.1', port: server.port }],
    pin: server.pin,
    edgeId: 'edge-1',
    name: 'edge-1',
    secret: 's3cret-s3cret',
  };
  const runtime = new EdgeRuntime({
    name: bundle.name,
    shards: 1,
    metrics: { host: '127.0.0.1', port: 0 },
    drainTimeoutSecs: DRAIN_TIMEOUT_SECS,
    maxConnections: null,
    source: new ServerRuleSource({ bundle }),
    log: capturingLogger(logs),
  });
  cleanups.push(() => runtime.stop());
  await runtime.start();
  const session = await server.nextSession(0);
  await session.waitFor('hello');
  const ack = await session.push([tcpRule('r-web', 'web', listenPort, targetPort)], { full: true });
  expect(ack.results).toEqual([{ ruleId: 'r-web', revision: 1, state: 'active' }]);
  return { runtime, listenPort };
}

describe.each([
  ['standalone', standalone],
  ['managed', managed],
] as const)('EdgeRuntime drain (%s)', (mode, startEdge) => {
  it('closes listeners and idle metrics connections at once, lets open connections finish, then closes them', async () => {
    const logs: LogLine[] = [];
    const { runtime, listenPort } = await startEdge(logs);
    expect(logs.find((log) => log.msg === 'edge ready')).toMatchObject({ mode, client: 'edge-1', shards: 1 });
    const metricsPort = runtime.metricsPort!;
    const client = await connect(listenPort);
    expect(await echoOnce(client, 'before')).toBe('before');
    const idle = await idleMetricsConnection(metricsPort);
    const idleClosed = closed(idle);
    const clientClosed = closed(client);

    const stopped = runtime.stop();
    // The drain has started: the scraper's idle connection goes, the rule's listener goes...
    await idleClosed;
    await refused(listenPort);
    // ...while the open connection still relays and /metrics still answers a new scrape.
    expect(await echoOnce(client, 'during the drain')).toBe('during the drain');
    expect(await connectError(metricsPort)).toBeNull();
    expect(logs.filter((log) => log.msg === 'draining')).toEqual([
      expect.objectContaining({ drain_timeout_secs: DRAIN_TIMEOUT_SECS }),
    ]);
    expect(logs.some((log) => log.msg === 'stopped')).toBe(false);

    // At drain_timeout_secs the edge closes what is left, and then it is stopped.
    await clientClosed;
    await stopped;
    expect(logs.at(-1)?.msg).toBe('stopped');
    expect(await connectError(metricsPort)).toBe('ECONNREFUSED');
  }, 20_000);
});

describe('EdgeRuntime reload (standalone)', () => {
  it('runs a reload asked for during start-up once start-up is over; a file that does not validate changes nothing', async () => {
    const logs: LogLine[] = [];
    const targetPort = await echoTarget();
    const [webPort, apiPort] = [await freePort(), await freePort()];
    const file = configFile();
    writeConfig(file, [{ name: 'web', listenPort: webPort, targetPort }]);
    const runtime = await standaloneRuntime(file, logs);

    const starting = runtime.start();
    writeConfig(file, [
      { name: 'web', listenPort: webPort, targetPort },
      { name: 'api', listenPort: apiPort, targetPort },
    ]);
    const reloaded = runtime.reload();
    await starting;
    await reloaded;
    const order = logs
      .map((log) => log.msg)
      .filter((msg) => msg === 'edge ready' || msg === 'reload applied');
    expect(order).toEqual(['edge ready', 'reload applied']);
    expect(logs.find((log) => log.msg === 'reload applied')).toMatchObject({ added: ['api'], unchanged: 1 });
    const web = await connect(webPort);
    expect(await echoOnce(web, 'web')).toBe('web');
    expect(await echoOnce(await connect(apiPort), 'api')).toBe('api');

    writeFileSync(file, '[[rules]]\nname = "web"\nlisten = "127.0.0.1:70000"\n');
    await runtime.reload();
    expect(logs.at(-1)).toMatchObject({ msg: 'reload rejected', file, err: { code: 'config_invalid' } });
    expect(logs.filter((log) => log.msg === 'reload applied')).toHaveLength(1);
    expect(await echoOnce(web, 'web still')).toBe('web still');
    expect(await echoOnce(await connect(apiPort), 'api still')).toBe('api still');
  }, 20_000);
});
