// sluicectl as a user runs it: `node apps/ctl/src/main.ts ...` in its own process, against a
// real sluice-server started in this process by the server's test harness (its API on an
// ephemeral loopback port, fake edges over real TLS). What no sluice-server does on demand (never
// answer, answer HTML, answer a code from a newer server or a body of the wrong shape) comes from
// a raw node:http server that stands where a wrong URL or a proxy would.

import { type ChildProcess, spawn } from 'node:child_process';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { PROTOCOL_VERSION } from '@sluice/protocol';
import { enrollAndConnect, startTestServer, type TestServer } from '@sluice/server/test-harness';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

// The fake edge's types, as the harness hands them out.
type AckPolicy = NonNullable<Parameters<typeof enrollAndConnect>[2]>;
type FakeEdge = Awaited<ReturnType<typeof enrollAndConnect>>['edge'];

vi.setConfig({ testTimeout: 30_000, hookTimeout: 30_000 }); // a test spawns up to four node processes

interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A listen address edge-01 cannot bind: its ack says failed. */
const FAILING_LISTEN = '0.0.0.0:1';
/** A listen address edge-01 never acks: the server answers ack_timeout. */
const SILENT_LISTEN = '0.0.0.0:2';

const TIME = String.raw`\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ`;

/** Acks every rule active and every removal removed, but for the two listen addresses above. */
const EDGE_ACKS: AckPolicy = (push) => {
  if (push.upsert.some((pushed) => pushed.rule.listen === SILENT_LISTEN)) return null;
  return [
    ...push.upsert.map((pushed) =>
      pushed.rule.listen === FAILING_LISTEN
        ? {
            ruleId: pushed.id,
            revision: pushed.revision,
            state: 'failed' as const,
            code: 'bind_failed',
            message: 'bind 0.0.0.0:1: EACCES',
          }
        : { ruleId: pushed.id, revision: pushed.revision, state: 'active' as const },
    ),
    ...push.remove.map((ruleId) => ({ ruleId, revision: 0, state: 'removed' as const })),
  ];
};

/** The counters a stats report carries, cumulative since the edge's boot. */
const COUNTERS = {
  bytesIn: 1536,
  bytesOut: 3 * 1024 ** 2,
  connectionsTotal: 12,
  activeConnections: 2,
  rejected: 0,
  connectErrors: 1,
};

let test: TestServer;
let url: string;
let admin: string;
/** A `user` token of alice: she sees and changes only her own rules. */
let alice: string;
let edge01: FakeEdge;
let edge01Id: string;
/** alice's rule tcp-8080 on edge-01. */
let r1: string;
let statsSeq = 0;

/** An API call of the test itself (through fastify's inject), that must succeed. */
// biome-ignore lint/suspicious/noExplicitAny: the test reads response bodies field by field
async function api(method: string, path: string, body?: unknown, token?: string): Promise<any> {
  const response = await test.request(method, path, body, token);
  if (response.status >= 300) throw new Error(`${method} ${path}: ${JSON.stringify(response.body)}`);
  return response.body;
}

async function until(done: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** How many requests the API has answered so far (its own request counter). */
async function apiRequests(): Promise<number> {
  const metric = await test.server.metrics.apiRequests.get();
  return metric.values.reduce((sum, value) => sum + value.value, 0);
}

/** Pushes a rule as admin to edge-01; its id. */
async function pushRule(server: TestServer, name: string, port: number): Promise<string> {
  const rule = { name, listen: `127.0.0.1:${port}`, targets: ['10.0.0.5:80'] };
  const response = await server.request('POST', '/v1/rules', { edge: 'edge-01', rule });
  if (response.status !== 201) throw new Error(`push ${name}: ${JSON.stringify(response.body)}`);
  return response.body.id as string;
}

/** Sends a stats report from `edge` as a real edge does, and waits until the server has it. */
async function report(
  server: TestServer,
  edge: FakeEdge,
  ruleId: string,
  counters: Partial<typeof COUNTERS> = {},
): Promise<void> {
  const recorded = new Promise<void>((resolve) => {
    const stop = server.server.statsHub.subscribe((stats) => {
      if (stats.ruleId !== ruleId) return;
      stop();
      resolve();
    });
  });
  edge.send({
    type: 'stats',
    bootId: 'ctl-test-boot',
    seq: statsSeq++,
    rules: [{ ruleId, ...COUNTERS, ...counters }],
  });
  await recorded;
}

beforeAll(async () => {
  test = await startTestServer();
  url = test.apiUrl;
  admin = test.adminToken;
  const { store } = test.server;
  const aliceUser = await store.users.create('alice', 'user');
  alice = (await store.users.createToken(aliceUser.id)).token;
  // Users forward only inside grants; alice may use every edge.
  await store.grants.create({
    userId: aliceUser.id,
    edgeId: null,
    portLo: 1,
    portHi: 65535,
    protocols: ['tcp', 'udp'],
  });
  ({ edge: edge01, edgeId: edge01Id } = await enrollAndConnect(test, 'edge-01', EDGE_ACKS));
  // edge-02 has a rule and has gone offline; edge-03 was never connected and is revoked.
  const edge02 = await enrollAndConnect(test, 'edge-02', EDGE_ACKS);
  const dns = { name: 'dns', listen: '0.0.0.0:5353', targets: ['10.0.0.53:53'], protocol: 'udp' };
  await api('POST', '/v1/rules', { edge: 'edge-02', rule: dns });
  await edge02.edge.close();
  await until(() => !test.server.control.isConnected(edge02.edgeId), 'edge-02 to be offline');
  await api('POST', '/v1/enrollments', { edge: 'edge-03' });
  await api('POST', '/v1/edges/edge-03/revoke');
  await api('POST', '/v1/enrollments', { edge: 'edge-04' });
  const web = { name: 'tcp-8080', listen: '0.0.0.0:8080', targets: ['10.0.0.5:80'], protocol: 'tcp' };
  r1 = (await api('POST', '/v1/rules', { edge: 'edge-01', rule: web }, alice)).id;
});

afterAll(async () => {
  await edge01?.close();
  await test?.stop();
});

/** The environment without the tester's own SLUICE_* settings, plus `env`. */
function environment(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('SLUICE_')));
  return { ...base, NO_COLOR: '1', ...env };
}

function start(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
  input: string | null = null,
): ChildProcess {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: environment({ SLUICE_SERVER: url, SLUICE_TOKEN: admin, ...env }),
    stdio: [input === null ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (input !== null) child.stdin?.end(input);
  return child;
}

function finish(child: ChildProcess): Promise<Run> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Runs sluicectl against the server as admin (override with env). */
function ctl(args: readonly string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  return finish(start(args, env));
}

/** sluicectl with `input` on its standard input (passwords). */
function ctlWithInput(args: readonly string[], input: string, env: Record<string, string | undefined> = {}) {
  return finish(start(args, env, input));
}

/** Resolves once the child has printed more than `count` lines on stdout. */
function linesFrom(child: ChildProcess): (count: number) => Promise<string> {
  let seen = '';
  const waiting: (() => void)[] = [];
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    seen += chunk;
    for (const wake of waiting.splice(0)) wake();
  });
  return async (count) => {
    while (seen.split('\n').length <= count) await new Promise<void>((resolve) => waiting.push(resolve));
    return seen;
  };
}

/** A port nothing listens on: bound once, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * A raw HTTP server that is not sluice-server: it never answers under /slow/, answers HTML under
 * /not-api/, and answers what only a newer or broken server would for a few fixed paths.
 */
async function notSluice(): Promise<{ url: string; paths: string[]; close: () => Promise<void> }> {
  const paths: string[] = [];
  const json = (response: ServerResponse, status: number, body: unknown) =>
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const server = createHttpServer((request: IncomingMessage, response: ServerResponse) => {
    const path = request.url ?? '/';
    paths.push(path);
    if (path.startsWith('/slow/')) return;
    if (path.startsWith('/not-api/')) {
      response.writeHead(502, { 'content-type': 'text/html' }).end('<html><body>Bad Gateway</body></html>');
    } else if (path === '/v1/rules/teapot') {
      json(response, 418, { error: { code: 'teapot_overflow', message: 'a code from a newer server' } });
    } else if (path === '/v1/rules/badshape/stats') {
      json(response, 200, { rule: 'badshape', bytesIn: 'lots' });
    } else {
      json(response, 404, { error: { code: 'not_found', message: `no route ${path}` } });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    paths,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('server and token', () => {
  it('names both ways when neither is given, before any request (config_missing, 3)', async () => {
    const before = await apiRequests();
    const run = await ctl(['edges'], { SLUICE_SERVER: undefined, SLUICE_TOKEN: undefined });
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr.split('\n')[0]).toBe(
      'config_missing: no server: pass --server URL or set SLUICE_SERVER; no token: pass --token TOKEN or set SLUICE_TOKEN',
    );
    expect(await apiRequests()).toBe(before);
  });

  it("takes --server and --token over the environment, and acts as the token's user", async () => {
    const run = await ctl(['list-rules', '--format', 'json', '--server', url, '--token', alice], {
      SLUICE_SERVER: 'http://127.0.0.1:9',
      SLUICE_TOKEN: 'wrong',
    });
    expect(run.code).toBe(0);
    const body = JSON.parse(run.stdout) as { rules: { id: string; owner: string }[] };
    expect(body.rules.map((rule) => [rule.id, rule.owner])).toEqual([[r1, 'alice']]);
  });

  it('passes on unauthorized (10) for a wrong token', async () => {
    const run = await ctl(['edges'], { SLUICE_TOKEN: 'nope' });
    expect(run.code).toBe(10);
    expect(run.stderr).toBe('unauthorized: unknown or revoked token\n');
  });
});

describe('enroll', () => {
  it('prints the URI and the command to run on the edge', async () => {
    const run = await ctl(['enroll', 'edge-09', '--ttl', '30m']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const edge = await api('GET', '/v1/edges/edge-09');
    const lines = run.stdout.split('\n');
    const headline = new RegExp(`^enrollment code for edge edge-09 \\(${edge.id}\\), valid until (${TIME})$`);
    expect(lines[0]).toMatch(headline);
    const expires = Date.parse(headline.exec(lines[0]!)![1]!.replace(' ', 'T'));
    expect(Math.abs(expires - (Date.now() + 30 * 60_000))).toBeLessThan(60_000);
    const { port } = test.server.advertise;
    const uri = new RegExp(
      `^sluice://127\\.0\\.0\\.1:${port}/enroll\\?pin=${test.server.certificate.fingerprint}&code=\\S+$`,
    );
    expect(lines[1]).toMatch(/^uri: /);
    expect(lines[1]!.slice('uri: '.length)).toMatch(uri);
    expect(lines[3]).toBe(
      `  sluice-edge enroll '${lines[1]!.slice('uri: '.length)}' --bundle ./sluice-edge.bundle`,
    );
  });

  it('leaves the ttl to the server when not given, and prints the raw JSON with --format json', async () => {
    const run = await ctl(['enroll', 'edge-01', '--format', 'json']);
    expect(run.code).toBe(0);
    const body = JSON.parse(run.stdout) as { edge: unknown; code: string; expiresAt: string };
    expect(body.edge).toEqual({ id: edge01Id, name: 'edge-01' });
    expect(body.code).not.toBe('');
    // The server's default ttl, 10 minutes.
    expect(Math.abs(Date.parse(body.expiresAt) - (Date.now() + 10 * 60_000))).toBeLessThan(60_000);
  });

  it("passes on the server's bad_request (12) for a ttl it refuses", async () => {
    const run = await ctl(['enroll', 'edge-01', '--ttl', 'soon']);
    expect(run.code).toBe(12);
    expect(run.stderr).toBe(
      'bad_request: ttl: "soon" is not a duration; use e.g. "30s", "10m", "2h" or "7d"\n',
    );
  });

  it('passes on forbidden (11) for a user token', async () => {
    const run = await ctl(['enroll', 'edge-01'], { SLUICE_TOKEN: alice });
    expect(run.code).toBe(11);
    expect(run.stderr).toBe('forbidden: enrollment.create needs an admin token; alice has role user\n');
  });
});

describe('edges and revoke', () => {
  it('lists edges as a table', async () => {
    const run = await ctl(['edges']);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+ID\s+STATE\s+VERSION\s+RULES\s+LAST SEEN\s+ENROLLED$/);
    expect(lines.find((line) => line.startsWith('edge-01'))).toMatch(
      new RegExp(
        `^edge-01\\s+${edge01Id}\\s+connected\\s+${PROTOCOL_VERSION}\\s+\\d+\\s+(just now|\\d+s ago)\\s+${TIME}$`,
      ),
    );
    expect(lines.find((line) => line.startsWith('edge-02'))).toMatch(
      new RegExp(`^edge-02\\s+e_\\w+\\s+offline\\s+${PROTOCOL_VERSION}\\s+1\\s+`),
    );
    expect(lines.find((line) => line.startsWith('edge-03'))).toMatch(
      /^edge-03\s+e_\w+\s+revoked\s+-\s+0\s+never\s+-$/,
    );
  });

  it('prints the API body for --format json, given before or after the command', async () => {
    for (const args of [
      ['edges', '--format', 'json'],
      ['--format', 'json', 'edges'],
    ]) {
      const run = await ctl(args);
      expect(run.code).toBe(0);
      const body = JSON.parse(run.stdout) as { edges: { name: string }[] };
      expect(body.edges.map((edge) => edge.name).slice(0, 3)).toEqual(['edge-01', 'edge-02', 'edge-03']);
    }
  });

  it('refuses an unknown --format (bad_usage, 2) without a request', async () => {
    const before = await apiRequests();
    const run = await ctl(['edges', '--format', 'yaml']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('bad_usage: --format "yaml" is not one of table, json\n');
    expect(await apiRequests()).toBe(before);
  });

  it('revokes an edge by name', async () => {
    const run = await ctl(['revoke', 'edge-04']);
    expect(run.code).toBe(0);
    const edge = await api('GET', '/v1/edges/edge-04');
    expect(edge.revoked).toBe(true);
    expect(run.stdout).toBe(`edge edge-04 (${edge.id}) revoked\n`);
  });

  it('passes on not_found (13) for an unknown edge', async () => {
    const run = await ctl(['revoke', 'edge-77']);
    expect(run.code).toBe(13);
    expect(run.stderr).toBe('not_found: no edge with id or name "edge-77"\n');
  });
});

describe('push-rule', () => {
  it('builds the rule table from the flags and prints the active rule', async () => {
    const run = await ctl([
      'push-rule',
      'edge-01',
      '0.0.0.0:9000',
      '10.0.0.5:80',
      '10.0.0.6:80',
      '--balance',
      'round-robin',
      '--proxy-protocol',
      'v2',
      '--limit',
      'bandwidth=100Mbit',
      '--limit',
      'max_connections=100',
      '--owner',
      'bob',
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const [, id] =
      /^rule (\S+) \(tcp-9000\) is active on edge edge-01$/.exec(run.stdout.split('\n')[0]!) ?? [];
    const stored = await api('GET', `/v1/rules/${id}`);
    expect(stored).toMatchObject({ owner: 'bob', state: 'active', edge: { name: 'edge-01' } });
    // The server keeps the table as sent, with the owner added.
    expect(stored.rule).toEqual({
      name: 'tcp-9000',
      listen: '0.0.0.0:9000',
      targets: ['10.0.0.5:80', '10.0.0.6:80'],
      balance: 'round-robin',
      proxy_protocol: 'v2',
      limits: { bandwidth: '100Mbit', max_connections: 100 },
      owner: 'bob',
    });
    expect(run.stdout).toMatch(/\nowner\s+bob\n/);
    expect(run.stdout).toMatch(/\ntargets\s+10\.0\.0\.5:80, 10\.0\.0\.6:80\n/);
  });

  it('pushes sni routes without a default target', async () => {
    const run = await ctl([
      'push-rule',
      'edge-01',
      '0.0.0.0:443',
      '--sni',
      'a.example.com=10.0.0.7:443',
      '--sni',
      'b.example.com=10.0.0.8:443',
      '--name',
      'tls',
      '--format',
      'json',
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const body = JSON.parse(run.stdout) as { id: string };
    expect(body).toMatchObject({ name: 'tls', state: 'active', edge: { name: 'edge-01' } });
    expect((await api('GET', `/v1/rules/${body.id}`)).rule).toEqual({
      name: 'tls',
      listen: '0.0.0.0:443',
      sni: { 'a.example.com': '10.0.0.7:443', 'b.example.com': '10.0.0.8:443' },
      owner: 'admin',
    });
  });

  it.for([
    [['--limit', 'max_connections=many'], /^bad_usage: --limit max_connections=many: /],
    [['--limit', 'speed=1'], /^bad_usage: --limit "speed=1": unknown key "speed"/],
    [['--sni', 'a.example.com'], /^bad_usage: --sni "a.example.com" is not NAME=TARGET/],
    [['--protocol', 'sctp'], /^bad_usage: --protocol "sctp" is not one of tcp, udp/],
  ] as const)('refuses %j with bad_usage (2) before any request', async ([flags, message]) => {
    const before = await apiRequests();
    const run = await ctl(['push-rule', 'edge-01', '0.0.0.0:9100', '10.0.0.5:80', ...flags]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(await apiRequests()).toBe(before);
  });

  it('says what is missing when an argument is left out (bad_usage, 2)', async () => {
    const run = await ctl(['push-rule', 'edge-01']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      "bad_usage: missing required argument 'listen'\n(see sluicectl push-rule --help)\n",
    );
    const none = await ctl(['push-rule', 'edge-01', '0.0.0.0:9100']);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe('bad_usage: push-rule needs at least one TARGET, or --sni NAME=TARGET routes\n');
  });

  it.for([
    ['port_in_use', 14, ['edge-01', '0.0.0.0:8080', '10.0.0.5:80', '--name', 'other']],
    ['name_taken', 15, ['edge-01', '0.0.0.0:8081', '10.0.0.5:80', '--name', 'tcp-8080']],
    ['client_not_connected', 16, ['edge-02', '0.0.0.0:8080', '10.0.0.5:80']],
    ['activation_failed', 17, ['edge-01', FAILING_LISTEN, '10.0.0.5:80']],
    ['ack_timeout', 18, ['edge-01', SILENT_LISTEN, '10.0.0.5:80']],
    ['edge_revoked', 19, ['edge-03', '0.0.0.0:8080', '10.0.0.5:80']],
    ['bad_request', 12, ['edge-01', '0.0.0.0:8082', '10.0.0.5:80', '--limit', 'bandwidth=fast']],
    ['forbidden', 11, ['edge-01', '0.0.0.0:8083', '10.0.0.5:80', '--owner', 'bob']],
  ] as const)('passes on %s with exit code %d', async ([code, exitCode, args]) => {
    const token = code === 'forbidden' ? alice : admin;
    const run = await ctl(['push-rule', ...args], { SLUICE_TOKEN: token });
    expect(run.stdout).toBe('');
    expect(run.code).toBe(exitCode);
    expect(run.stderr.split('\n')[0]).toMatch(new RegExp(`^${code}: \\S`));
  });

  it("passes on the server's messages naming the field and the edge's reason", async () => {
    const run = await ctl([
      'push-rule',
      'edge-01',
      '0.0.0.0:8084',
      '10.0.0.5:80',
      '--limit',
      'bandwidth=fast',
    ]);
    expect(run.stderr).toMatch(/^bad_request: rule\.limits\.bandwidth: .*"fast"/);
    const failed = await ctl(['push-rule', 'edge-01', FAILING_LISTEN, '10.0.0.5:80', '--name', 'nobind']);
    expect(failed.stderr).toMatch(/^activation_failed: bind_failed: .*bind 0\.0\.0\.0:1: EACCES\n$/);
  });
});

describe('list-rules and remove-rule', () => {
  it('lists rules, filtered by --edge', async () => {
    const run = await ctl(['list-rules', '--edge', 'edge-01']);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+EDGE\s+NAME\s+OWNER\s+STATE\s+LISTEN\s+TARGETS\s+REV$/);
    expect(lines.find((line) => line.startsWith(r1))).toMatch(
      new RegExp(
        `^${r1}\\s+edge-01\\s+tcp-8080\\s+alice\\s+active\\s+tcp 0\\.0\\.0\\.0:8080\\s+10\\.0\\.0\\.5:80\\s+1$`,
      ),
    );
    expect(lines.slice(1).every((line) => /^\S+\s+edge-01\s/.test(line))).toBe(true);
    const edge02 = await ctl(['list-rules', '--edge', 'edge-02']);
    expect(edge02.stdout.trimEnd().split('\n').slice(1)).toEqual([
      expect.stringMatching(
        /^\S+\s+edge-02\s+dns\s+admin\s+active\s+udp 0\.0\.0\.0:5353\s+10\.0\.0\.53:53\s+1$/,
      ),
    ]);
  });

  it('colours states and error codes at a terminal, and nothing with NO_COLOR set', async () => {
    // `script` runs sluicectl on a pseudo-terminal, as a person's shell does; it copies what
    // sluicectl writes there, stdout and stderr alike, to its own stdout.
    const atTerminal = (args: string, env: Record<string, string | undefined>) =>
      finish(
        spawn('script', ['-qefc', `${process.execPath} ${MAIN} ${args}`, '/dev/null'], {
          env: environment({ SLUICE_SERVER: url, SLUICE_TOKEN: admin, TERM: 'xterm', ...env }),
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
      );
    const coloured = await atTerminal('list-rules --edge edge-01', { NO_COLOR: undefined });
    expect(coloured.code).toBe(0);
    expect(coloured.stdout).toMatch(
      new RegExp(`${r1}\\s+edge-01\\s+tcp-8080\\s+alice\\s+\u001b\\[32mactive\u001b\\[39m`),
    );
    const failing = await atTerminal('revoke edge-77', { NO_COLOR: undefined });
    expect(failing.code).toBe(13);
    expect(failing.stdout).toContain('\u001b[1m\u001b[31mnot_found\u001b[39m\u001b[22m: ');
    const plainRules = await atTerminal('list-rules --edge edge-01', { NO_COLOR: '1' });
    expect(plainRules.stdout).toMatch(new RegExp(`${r1}\\s+edge-01\\s+tcp-8080\\s+alice\\s+active\\s`));
    const plainError = await atTerminal('revoke edge-77', { NO_COLOR: '1' });
    expect(plainError.stdout).toContain('not_found: no edge with id or name "edge-77"');
    for (const plain of [plainRules, plainError]) expect(plain.stdout).not.toContain('\u001b[');
  });

  it('lists all rules as JSON', async () => {
    const run = await ctl(['list-rules', '--format', 'json']);
    expect(run.code).toBe(0);
    const body = JSON.parse(run.stdout) as { rules: { id: string; edge: { name: string } }[] };
    expect(body.rules.find((rule) => rule.id === r1)).toMatchObject({ owner: 'alice' });
    expect(new Set(body.rules.map((rule) => rule.edge.name))).toEqual(new Set(['edge-01', 'edge-02']));
  });

  it('removes a rule', async () => {
    const pushed = await ctl(['push-rule', 'edge-01', '0.0.0.0:9500', '10.0.0.5:80', '--format', 'json']);
    const { id } = JSON.parse(pushed.stdout) as { id: string };
    const run = await ctl(['remove-rule', id]);
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe(`rule ${id} (tcp-9500) removed from edge edge-01`);
    const again = await ctl(['remove-rule', id]);
    expect(again.code).toBe(13);
    expect(again.stderr).toBe(`not_found: no rule with id "${id}"\n`);
  });

  it('passes on an API code it does not know with exit 1', async () => {
    const raw = await notSluice();
    try {
      const unknown = await ctl(['remove-rule', 'teapot', '--server', raw.url]);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toBe('teapot_overflow: a code from a newer server\n');
      expect(raw.paths).toEqual(['/v1/rules/teapot']);
    } finally {
      await raw.close();
    }
  });
});

describe('rule-stats', () => {
  it('shows totals and rates', async () => {
    const id = await pushRule(test, 'stats-a', 9601);
    await report(test, edge01, id, { bytesOut: 1024 ** 2 });
    const first = await api('GET', `/v1/rules/${id}/stats`);
    // A rate needs time between two reports.
    await until(() => Date.now() > Date.parse(first.at), 'the clock to move');
    await report(test, edge01, id);
    const run = await ctl(['rule-stats', id]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^rule\\s+${id}$`, 'm'));
    expect(run.stdout).toMatch(new RegExp(`^at\\s+${TIME}$`, 'm'));
    expect(run.stdout).toMatch(/^bytes out\s+3\.00 MiB$/m);
    expect(run.stdout).toMatch(/^rate in\s+0 bit\/s$/m);
    expect(run.stdout).toMatch(/^rate out\s+[1-9][\d.]* [kMGT]?bit\/s$/m);
    expect(run.stdout).toMatch(/^connect errors\s+1$/m);
  });

  it('reports bad_response (6) for a body of the wrong shape', async () => {
    const raw = await notSluice();
    try {
      const run = await ctl(['rule-stats', 'badshape', '--server', raw.url]);
      expect(run.code).toBe(6);
      expect(run.stderr).toMatch(
        new RegExp(
          `^bad_response: the sluice server at ${raw.url}/ answered GET /v1/rules/badshape/stats with an unexpected body: at: `,
        ),
      );
    } finally {
      await raw.close();
    }
  });

  it('--watch prints a line per stats event until Ctrl-C, then exits 0', async () => {
    const id = await pushRule(test, 'watch-a', 9602);
    await report(test, edge01, id);
    const child = start(['rule-stats', id, '--watch']);
    const done = finish(child);
    const lines = linesFrom(child);
    await lines(1);
    // The stream opened before the first line was read, so no change after it can be missed.
    expect(test.server.statsHub.listeners).toBeGreaterThan(0);
    await report(test, edge01, id, { activeConnections: 5 });
    await lines(2);
    await report(test, edge01, id, { activeConnections: 0 });
    await lines(3);
    child.kill('SIGINT');
    const run = await done;
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const rest = '  conns 12  rejected 0  errors 1  total 1.50 KiB in / 3.00 MiB out';
    const line = (active: number) =>
      new RegExp(`^${TIME}  in 0 bit/s  out 0 bit/s  active ${active}${rest}$`);
    expect(run.stdout.trimEnd().split('\n')).toEqual([
      expect.stringMatching(line(2)),
      expect.stringMatching(line(5)),
      expect.stringMatching(line(0)),
    ]);
  });

  it('--watch ends quietly with 0 when its reader goes away (| head)', async () => {
    const id = await pushRule(test, 'watch-b', 9603);
    const child = start(['rule-stats', id, '--watch']);
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await new Promise<void>((resolve) => child.stdout?.once('data', () => resolve()));
    child.stdout?.destroy();
    await until(() => test.server.statsHub.listeners > 0, 'the stats stream to open');
    // Lines until a write fails: the first may still fit the pipe's buffer before it is seen closed.
    let reports = Promise.resolve();
    const timer = setInterval(() => {
      reports = reports.then(() => report(test, edge01, id));
    }, 50);
    const code = await exited.finally(() => clearInterval(timer));
    await reports;
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('--watch fails with not_found (13) for an unknown rule, before streaming', async () => {
    const run = await ctl(['rule-stats', 'r404', '--watch']);
    expect(run.code).toBe(13);
    expect(run.stderr).toBe('not_found: no rule with id "r404"\n');
  });
});

describe('a server that fails and stops', () => {
  it('passes on internal (20) when its database is damaged, and stream_closed (7) when it stops', async () => {
    const own = await startTestServer();
    const ownUrl = own.apiUrl;
    const { edge } = await enrollAndConnect(own, 'edge-01', EDGE_ACKS);
    try {
      const id = await pushRule(own, 'watch-c', 9604);
      await report(own, edge, id);
      const child = start(['rule-stats', id, '--watch', '--format', 'json'], {
        SLUICE_SERVER: ownUrl,
        SLUICE_TOKEN: own.adminToken,
      });
      const done = finish(child);
      const lines = linesFrom(child);
      await lines(1);
      await until(() => own.server.statsHub.listeners > 0, 'the stats stream to open');
      await report(own, edge, id, { bytesIn: 4096 });
      await lines(2);
      // A database damaged under the running server: reading stats fails, and the API says internal.
      const database = new DatabaseSync(own.server.dataDir.dbFile);
      database.exec('DROP TABLE rule_stats');
      database.close();
      const internal = await ctl(['rule-stats', id], {
        SLUICE_SERVER: ownUrl,
        SLUICE_TOKEN: own.adminToken,
      });
      expect(internal.code).toBe(20);
      expect(internal.stderr).toBe('internal: internal error; the server log has the details\n');
      await own.stop();
      const run = await done;
      expect(run.code).toBe(7);
      expect(run.stderr).toBe(
        `stream_closed: the sluice server at ${ownUrl}/ ended the stream of GET /v1/stats/stream?rule=${id}\n`,
      );
      const objects = run.stdout
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as { bytesIn: number });
      expect(objects.map((stats) => stats.bytesIn)).toEqual([1536, 4096]);
    } finally {
      await edge.close();
      await own.stop();
    }
  });
});

describe('network failures name the server', () => {
  it('server_unreachable (4) when nothing listens', async () => {
    const closed = `http://127.0.0.1:${await closedPort()}`;
    const run = await ctl(['edges', '--server', closed]);
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(
      new RegExp(`^server_unreachable: cannot reach the sluice server at ${closed}/: connect ECONNREFUSED`),
    );
  });

  it('server_timeout (5) when the server does not answer within --timeout', async () => {
    const raw = await notSluice();
    try {
      const run = await ctl(['edges', '--server', `${raw.url}/slow/`, '--timeout', '0.3']);
      expect(run.code).toBe(5);
      expect(run.stderr).toBe(
        `server_timeout: the sluice server at ${raw.url}/slow/ did not answer GET /v1/edges within 0.3 s\n`,
      );
      expect(raw.paths).toEqual(['/slow/v1/edges']);
    } finally {
      await raw.close();
    }
  });

  it('bad_response (6) when the URL is not the sluice API', async () => {
    const raw = await notSluice();
    try {
      const run = await ctl(['edges', '--server', `${raw.url}/not-api`]);
      expect(run.code).toBe(6);
      expect(run.stderr).toBe(
        `bad_response: the sluice server at ${raw.url}/not-api answered GET /v1/edges with HTTP 502 Bad Gateway and no sluice error body; is ${raw.url}/not-api the sluice API listener?\n`,
      );
    } finally {
      await raw.close();
    }
  });
});

describe('user and token', () => {
  it('an admin adds, lists, shows, disables, enables and removes a user, with --format json alike', async () => {
    const added = await ctlWithInput(
      ['user', 'add', 'quinn', '--display-name', 'Quinn Q.', '--password-stdin'],
      'a long password 1\n',
    );
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/^user quinn \(u_\w+\) made\n/);
    expect(added.stdout).toMatch(/state +password/);
    const list = await ctl(['user', 'list']);
    expect(list.stdout).toMatch(/^NAME +ID +ROLE +STATE +DISPLAY NAME +CREATED/);
    expect(list.stdout).toMatch(/quinn +u_\w+ +user +password +Quinn Q\./);
    const json = JSON.parse((await ctl(['--format', 'json', 'user', 'show', 'quinn'])).stdout);
    expect(json).toMatchObject({ name: 'quinn', displayName: 'Quinn Q.', role: 'user', hasPassword: true });
    expect((await ctl(['user', 'disable', 'quinn'])).stdout).toMatch(/^user quinn disabled/);
    expect((await ctl(['--format', 'json', 'user', 'enable', 'quinn'])).stdout).toContain(
      '"disabled": false',
    );
    const short = await ctlWithInput(['user', 'add', 'rex', '--password-stdin'], 'short\n');
    expect(short.code).toBe(12);
    expect(short.stderr).toMatch(/^bad_request: password: at least 12 characters/);
    expect((await ctl(['user', 'add', 'quinn'])).code).toBe(15);
    const removed = await ctl(['user', 'remove', 'quinn']);
    expect(removed.stdout).toMatch(
      /^user quinn \(u_\w+\) deleted with 0 rule\(s\), 0 token\(s\) and 0 session\(s\)\n$/,
    );
    expect((await ctl(['user', 'show', 'quinn'])).code).toBe(13);
    // alice is a user: not allowed to list users (forbidden, 11).
    expect((await ctl(['user', 'list'], { SLUICE_TOKEN: alice })).code).toBe(11);
  });

  it('makes, lists and revokes tokens; the secret is printed once and works', async () => {
    await ctlWithInput(['user', 'add', 'sam', '--password-stdin'], 'sams password 12\n');
    const made = await ctl(['token', 'create', 'ci', '--user', 'sam']);
    expect(made.code, made.stderr).toBe(0);
    const secret = /^(slt_\S+)$/m.exec(made.stdout)?.[1];
    expect(secret).toBeDefined();
    const own = await ctl(['--format', 'json', 'token', 'create', 'laptop'], { SLUICE_TOKEN: secret });
    const laptop = JSON.parse(own.stdout);
    expect(laptop).toMatchObject({ name: 'laptop', revoked: false });
    const list = await ctl(['token', 'list'], { SLUICE_TOKEN: secret });
    expect(list.stdout).toMatch(/^NAME +ID +STATE +CREATED +LAST USED/);
    expect(list.stdout).toMatch(/ci +t_\w+ +live/);
    expect(list.stdout).not.toContain(secret);
    expect((await ctl(['token', 'revoke', laptop.id], { SLUICE_TOKEN: secret })).stdout).toMatch(
      /^token laptop \(t_\w+\) revoked\n$/,
    );
    expect((await ctl(['user', 'show', 'me'], { SLUICE_TOKEN: laptop.token })).code).toBe(10);
    expect((await ctl(['token', 'list', '--user', 'admin'], { SLUICE_TOKEN: secret })).code).toBe(11);
  });

  it('changes your own password from stdin, and an admin resets one that must then be changed', async () => {
    await ctlWithInput(['user', 'add', 'tess', '--password-stdin'], 'tess password 12\n');
    const token = /^(slt_\S+)$/m.exec((await ctl(['token', 'create', 'cli', '--user', 'tess'])).stdout)?.[1];
    const wrong = await ctlWithInput(['user', 'passwd'], 'not the password\nanother password 1\n', {
      SLUICE_TOKEN: token,
    });
    expect(wrong.code).toBe(10);
    expect(wrong.stderr).toMatch(/^unauthorized: currentPassword/);
    const changed = await ctlWithInput(['user', 'passwd'], 'tess password 12\nanother password 1\n', {
      SLUICE_TOKEN: token,
    });
    expect(changed).toMatchObject({ code: 0, stdout: 'password changed; your other sessions ended\n' });
    const reset = await ctlWithInput(['user', 'passwd', '--reset', 'tess'], 'temporary pass 12\n');
    expect(reset.stdout).toBe('temporary password set for tess: it must be changed at the next login\n');
    expect(
      JSON.parse((await ctl(['--format', 'json', 'user', 'show', 'tess'])).stdout).mustChangePassword,
    ).toBe(true);
  });
});

describe('usage', () => {
  it('prints help on stdout and exits 0', async () => {
    const run = await ctl(['--help'], { SLUICE_SERVER: undefined });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: sluicectl \[options\] <command>/);
    for (const command of [
      'enroll',
      'edges',
      'push-rule',
      'list-rules',
      'rule-stats',
      'remove-rule',
      'revoke',
      'user',
      'token',
    ]) {
      expect(run.stdout).toContain(`  ${command}`);
    }
    const topic = await ctl(['help', 'push-rule']);
    expect(topic.code).toBe(0);
    expect(topic.stdout).toMatch(/^Usage: sluicectl push-rule \[options\] <edge> <listen> \[targets\.\.\.\]/);
  });

  it('refuses no command and an unknown command with bad_usage (2)', async () => {
    const none = await ctl([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^bad_usage: no command given; commands: enroll, edges, push-rule/);
    const unknown = await ctl(['lsit-rules']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^bad_usage: unknown command "lsit-rules"; commands: /);
  });

  it('refuses an unknown flag with bad_usage (2)', async () => {
    const run = await ctl(['edges', '--colour']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("bad_usage: unknown option '--colour'\n(see sluicectl edges --help)\n");
  });
});
