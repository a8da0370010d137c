// sluicectl as a user runs it: `node apps/ctl/src/main.ts ...` in its own process, against a
// real HTTP server on 127.0.0.1 answering like docs/server-api.md.

import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { it as base, describe, expect, vi } from 'vitest';
import { ADMIN_TOKEN, ruleStats, StubApiServer, USER_TOKEN } from './stub-api-server.ts';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

vi.setConfig({ testTimeout: 30_000 }); // a test spawns up to four node processes

interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

// Each test gets its own server and sees only its own requests. The tests run one at a time:
// each spawns node, and on a busy 2-core machine running them at once only made them time out.
const it = base.extend<{ stub: StubApiServer }>({
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads fixture dependencies from this pattern
  stub: async ({}, use) => {
    const stub = await StubApiServer.start();
    await use(stub);
    await stub.close();
  },
});

/** The environment without the tester's own SLUICE_* settings, plus `env`. */
function environment(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('SLUICE_')));
  return { ...base, NO_COLOR: '1', ...env };
}

function start(args: readonly string[], env: Record<string, string | undefined>): ChildProcess {
  return spawn(process.execPath, [MAIN, ...args], {
    env: environment(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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

/** Runs sluicectl against the stub as admin (override with env). */
function ctl(
  stub: StubApiServer,
  args: readonly string[],
  env: Record<string, string | undefined> = {},
): Promise<Run> {
  return finish(start(args, { SLUICE_SERVER: stub.url, SLUICE_TOKEN: ADMIN_TOKEN, ...env }));
}

function lastRequest(stub: StubApiServer) {
  const request = stub.requests.at(-1);
  if (request === undefined) throw new Error('the stub got no request');
  return request;
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

describe('server and token', () => {
  it('names both ways when neither is given, before any request (config_missing, 3)', async ({ stub }) => {
    const before = stub.requests.length;
    const run = await ctl(stub, ['edges'], { SLUICE_SERVER: undefined, SLUICE_TOKEN: undefined });
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr.split('\n')[0]).toBe(
      'config_missing: no server: pass --server URL or set SLUICE_SERVER; no token: pass --token TOKEN or set SLUICE_TOKEN',
    );
    expect(stub.requests.length).toBe(before);
  });

  it('takes --server and --token over the environment, and sends the token as a bearer', async ({ stub }) => {
    const run = await ctl(stub, ['edges', '--server', stub.url, '--token', USER_TOKEN], {
      SLUICE_SERVER: 'http://127.0.0.1:9',
      SLUICE_TOKEN: 'wrong',
    });
    expect(run.code).toBe(0);
    expect(lastRequest(stub)).toMatchObject({
      method: 'GET',
      path: '/v1/edges',
      authorization: `Bearer ${USER_TOKEN}`,
    });
  });

  it('passes on unauthorized (10) for a wrong token', async ({ stub }) => {
    const run = await ctl(stub, ['edges'], { SLUICE_TOKEN: 'nope' });
    expect(run.code).toBe(10);
    expect(run.stderr).toBe('unauthorized: unknown or revoked token\n');
  });
});

describe('enroll', () => {
  it('prints the URI and the command to run on the edge', async ({ stub }) => {
    const run = await ctl(stub, ['enroll', 'edge-09', '--ttl', '30m']);
    expect(run.code).toBe(0);
    expect(lastRequest(stub)).toMatchObject({
      method: 'POST',
      path: '/v1/enrollments',
      body: { edge: 'edge-09', ttl: '30m' },
    });
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe('enrollment code for edge edge-09 (e4), valid until 2026-03-01 12:10:00Z');
    expect(lines[1]).toBe('uri: sluice://ctl.example.com:7443/enroll?pin=9f86d081884c7d65&code=K7QX-2M4P');
    expect(lines[3]).toBe(
      "  sluice-edge enroll 'sluice://ctl.example.com:7443/enroll?pin=9f86d081884c7d65&code=K7QX-2M4P' --bundle FILE",
    );
  });

  it('leaves the ttl to the server when not given, and prints the raw JSON with --format json', async ({
    stub,
  }) => {
    const run = await ctl(stub, ['enroll', 'edge-01', '--format', 'json']);
    expect(run.code).toBe(0);
    expect(lastRequest(stub).body).toEqual({ edge: 'edge-01' });
    expect(JSON.parse(run.stdout)).toMatchObject({ edge: { id: 'e1', name: 'edge-01' }, code: 'K7QX-2M4P' });
  });

  it("passes on the server's bad_request (12) for a ttl it refuses", async ({ stub }) => {
    const run = await ctl(stub, ['enroll', 'edge-01', '--ttl', 'soon']);
    expect(run.code).toBe(12);
    expect(run.stderr).toBe('bad_request: ttl: "soon" is not a duration such as 10m\n');
  });

  it('passes on forbidden (11) for a user token', async ({ stub }) => {
    const run = await ctl(stub, ['enroll', 'edge-01'], { SLUICE_TOKEN: USER_TOKEN });
    expect(run.code).toBe(11);
    expect(run.stderr).toBe('forbidden: only an admin may enroll edges\n');
  });
});

describe('edges and revoke', () => {
  it('lists edges as a table', async ({ stub }) => {
    const run = await ctl(stub, ['edges']);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+ID\s+STATE\s+VERSION\s+RULES\s+LAST SEEN\s+ENROLLED$/);
    expect(lines.find((line) => line.startsWith('edge-01'))).toMatch(
      /^edge-01\s+e1\s+connected\s+0\.1\.0\s+\d+\s+/,
    );
    expect(lines.find((line) => line.startsWith('edge-03'))).toMatch(
      /^edge-03\s+e3\s+revoked\s+-\s+0\s+never\s+/,
    );
  });

  it('prints the API body for --format json, given before or after the command', async ({ stub }) => {
    for (const args of [
      ['edges', '--format', 'json'],
      ['--format', 'json', 'edges'],
    ]) {
      const run = await ctl(stub, args);
      expect(run.code).toBe(0);
      const body = JSON.parse(run.stdout) as { edges: { name: string }[] };
      expect(body.edges.map((edge) => edge.name).slice(0, 3)).toEqual(['edge-01', 'edge-02', 'edge-03']);
    }
  });

  it('refuses an unknown --format (bad_usage, 2) without a request', async ({ stub }) => {
    const before = stub.requests.length;
    const run = await ctl(stub, ['edges', '--format', 'yaml']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('bad_usage: --format "yaml" is not one of table, json\n');
    expect(stub.requests.length).toBe(before);
  });

  it('revokes an edge by name', async ({ stub }) => {
    const run = await ctl(stub, ['revoke', 'edge-02']);
    expect(run.code).toBe(0);
    expect(lastRequest(stub)).toMatchObject({ method: 'POST', path: '/v1/edges/edge-02/revoke' });
    expect(run.stdout).toBe('edge edge-02 (e2) revoked\n');
  });

  it('passes on not_found (13) for an unknown edge', async ({ stub }) => {
    const run = await ctl(stub, ['revoke', 'edge-77']);
    expect(run.code).toBe(13);
    expect(run.stderr).toBe('not_found: no edge "edge-77"\n');
  });
});

describe('push-rule', () => {
  it('builds the rule table from the flags and prints the active rule', async ({ stub }) => {
    const run = await ctl(stub, [
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
    expect(lastRequest(stub)).toMatchObject({
      method: 'POST',
      path: '/v1/rules',
      body: {
        edge: 'edge-01',
        owner: 'bob',
        rule: {
          name: 'tcp-9000',
          listen: '0.0.0.0:9000',
          targets: ['10.0.0.5:80', '10.0.0.6:80'],
          balance: 'round-robin',
          proxy_protocol: 'v2',
          limits: { bandwidth: '100Mbit', max_connections: 100 },
        },
      },
    });
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(/^rule r\d+ \(tcp-9000\) is active on edge edge-01$/);
    expect(run.stdout).toMatch(/\nowner\s+bob\n/);
    expect(run.stdout).toMatch(/\ntargets\s+10\.0\.0\.5:80, 10\.0\.0\.6:80\n/);
  });

  it('pushes sni routes without a default target', async ({ stub }) => {
    const run = await ctl(stub, [
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
    expect(run.code).toBe(0);
    expect(lastRequest(stub).body).toEqual({
      edge: 'edge-01',
      rule: {
        name: 'tls',
        listen: '0.0.0.0:443',
        sni: { 'a.example.com': '10.0.0.7:443', 'b.example.com': '10.0.0.8:443' },
      },
    });
    expect(JSON.parse(run.stdout)).toMatchObject({ name: 'tls', state: 'active', edge: { name: 'edge-01' } });
  });

  it.for([
    [['--limit', 'max_connections=many'], /^bad_usage: --limit max_connections=many: /],
    [['--limit', 'speed=1'], /^bad_usage: --limit "speed=1": unknown key "speed"/],
    [['--sni', 'a.example.com'], /^bad_usage: --sni "a.example.com" is not NAME=TARGET/],
    [['--protocol', 'sctp'], /^bad_usage: --protocol "sctp" is not one of tcp, udp/],
  ] as const)('refuses %j with bad_usage (2) before any request', async ([flags, message], { stub }) => {
    const before = stub.requests.length;
    const run = await ctl(stub, ['push-rule', 'edge-01', '0.0.0.0:9100', '10.0.0.5:80', ...flags]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(stub.requests.length).toBe(before);
  });

  it('says what is missing when an argument is left out (bad_usage, 2)', async ({ stub }) => {
    const run = await ctl(stub, ['push-rule', 'edge-01']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      "bad_usage: missing required argument 'listen'\n(see sluicectl push-rule --help)\n",
    );
    const none = await ctl(stub, ['push-rule', 'edge-01', '0.0.0.0:9100']);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe('bad_usage: push-rule needs at least one TARGET, or --sni NAME=TARGET routes\n');
  });

  it.for([
    ['port_in_use', 14, ['edge-01', '0.0.0.0:8080', '10.0.0.5:80', '--name', 'other']],
    ['name_taken', 15, ['edge-01', '0.0.0.0:8081', '10.0.0.5:80', '--name', 'tcp-8080']],
    ['client_not_connected', 16, ['edge-02', '0.0.0.0:8080', '10.0.0.5:80']],
    ['activation_failed', 17, ['edge-01', '0.0.0.0:1', '10.0.0.5:80']],
    ['ack_timeout', 18, ['edge-01', '0.0.0.0:2', '10.0.0.5:80']],
    ['edge_revoked', 19, ['edge-03', '0.0.0.0:8080', '10.0.0.5:80']],
    ['bad_request', 12, ['edge-01', '0.0.0.0:8082', '10.0.0.5:80', '--limit', 'bandwidth=fast']],
    ['forbidden', 11, ['edge-01', '0.0.0.0:8083', '10.0.0.5:80', '--owner', 'bob', '--token', USER_TOKEN]],
  ] as const)('passes on %s with exit code %d', async ([code, exitCode, args], { stub }) => {
    const run = await ctl(stub, ['push-rule', ...args]);
    expect(run.stdout).toBe('');
    expect(run.code).toBe(exitCode);
    expect(run.stderr.split('\n')[0]).toMatch(new RegExp(`^${code}: \\S`));
  });

  it("passes on the server's message naming the field", async ({ stub }) => {
    const run = await ctl(stub, [
      'push-rule',
      'edge-01',
      '0.0.0.0:8084',
      '10.0.0.5:80',
      '--limit',
      'bandwidth=fast',
    ]);
    expect(run.stderr).toBe(
      'bad_request: rule.limits.bandwidth: "fast" is not a bandwidth; use e.g. "100Mbit" or "10MiB/s"\n',
    );
  });
});

describe('list-rules and remove-rule', () => {
  it('lists rules, filtered by --edge', async ({ stub }) => {
    const run = await ctl(stub, ['list-rules', '--edge', 'edge-01']);
    expect(run.code).toBe(0);
    expect(lastRequest(stub).path).toBe('/v1/rules?edge=edge-01');
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+EDGE\s+NAME\s+OWNER\s+STATE\s+LISTEN\s+TARGETS\s+REV$/);
    expect(lines[1]).toMatch(
      /^r1\s+edge-01\s+tcp-8080\s+alice\s+active\s+tcp 0\.0\.0\.0:8080\s+10\.0\.0\.5:80\s+1$/,
    );
  });

  it('lists all rules as JSON', async ({ stub }) => {
    const run = await ctl(stub, ['list-rules', '--format', 'json']);
    expect(run.code).toBe(0);
    expect(lastRequest(stub).path).toBe('/v1/rules');
    const body = JSON.parse(run.stdout) as { rules: { id: string }[] };
    expect(body.rules[0]).toMatchObject({ id: 'r1', owner: 'alice' });
  });

  it('removes a rule', async ({ stub }) => {
    const pushed = await ctl(stub, [
      'push-rule',
      'edge-01',
      '0.0.0.0:9500',
      '10.0.0.5:80',
      '--format',
      'json',
    ]);
    const { id } = JSON.parse(pushed.stdout) as { id: string };
    const run = await ctl(stub, ['remove-rule', id]);
    expect(run.code).toBe(0);
    expect(lastRequest(stub)).toMatchObject({ method: 'DELETE', path: `/v1/rules/${id}` });
    expect(run.stdout.split('\n')[0]).toBe(`rule ${id} (tcp-9500) removed from edge edge-01`);
    const again = await ctl(stub, ['remove-rule', id]);
    expect(again.code).toBe(13);
    expect(again.stderr).toBe(`not_found: no rule "${id}"\n`);
  });

  it('passes on internal (20), and an API code it does not know with exit 1', async ({ stub }) => {
    const internal = await ctl(stub, ['remove-rule', 'boom']);
    expect(internal.code).toBe(20);
    expect(internal.stderr).toBe('internal: store exploded\n');
    const unknown = await ctl(stub, ['remove-rule', 'teapot']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('teapot_overflow: a code from a newer server\n');
  });
});

describe('rule-stats', () => {
  it('shows totals and rates', async ({ stub }) => {
    const run = await ctl(stub, ['rule-stats', 'r1']);
    expect(run.code).toBe(0);
    expect(lastRequest(stub).path).toBe('/v1/rules/r1/stats');
    expect(run.stdout).toMatch(/^rule\s+r1$/m);
    expect(run.stdout).toMatch(/^bytes out\s+3\.00 MiB$/m);
    expect(run.stdout).toMatch(/^rate out\s+10\.0 Mbit\/s$/m);
    expect(run.stdout).toMatch(/^connect errors\s+1$/m);
  });

  it('reports bad_response (6) for a body of the wrong shape', async ({ stub }) => {
    const run = await ctl(stub, ['rule-stats', 'badshape']);
    expect(run.code).toBe(6);
    expect(run.stderr).toMatch(
      new RegExp(
        `^bad_response: the sluice server at ${stub.url}/ answered GET /v1/rules/badshape/stats with an unexpected body: at: `,
      ),
    );
  });

  it('--watch prints a line per stats event until Ctrl-C, then exits 0', async ({ stub }) => {
    const child = start(['rule-stats', 'r1', '--watch'], {
      SLUICE_SERVER: stub.url,
      SLUICE_TOKEN: ADMIN_TOKEN,
    });
    const done = finish(child);
    let seen = '';
    const lines = (count: number) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (seen.split('\n').length > count) {
            child.stdout?.off('data', onData);
            resolve();
          }
        };
        const onData = (chunk: string) => {
          seen += chunk;
          check();
        };
        child.stdout?.on('data', onData);
      });
    const first = lines(1);
    await stub.streamOpened();
    await first;
    expect(stub.requests.some((request) => request.path === '/v1/stats/stream?rule=r1')).toBe(true);
    const streamed = lines(3);
    stub.emitStats(
      ruleStats('r1', { at: '2026-03-01T12:00:05.000Z', activeConnections: 5, bytesInPerSec: 12_500_000 }),
    );
    stub.emitStats(
      ruleStats('r1', { at: '2026-03-01T12:00:10.000Z', activeConnections: 0, bytesInPerSec: 0 }),
    );
    await streamed;
    child.kill('SIGINT');
    const run = await done;
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout.trimEnd().split('\n')).toEqual([
      '2026-03-01 12:00:00Z  in 1.00 Mbit/s  out 10.0 Mbit/s  active 2  conns 12  rejected 0  errors 1  total 1.50 KiB in / 3.00 MiB out',
      '2026-03-01 12:00:05Z  in 100 Mbit/s  out 10.0 Mbit/s  active 5  conns 12  rejected 0  errors 1  total 1.50 KiB in / 3.00 MiB out',
      '2026-03-01 12:00:10Z  in 0 bit/s  out 10.0 Mbit/s  active 0  conns 12  rejected 0  errors 1  total 1.50 KiB in / 3.00 MiB out',
    ]);
    const stream = stub.requests.find((request) => request.path === '/v1/stats/stream?rule=r1');
    expect(stream?.accept).toBe('text/event-stream');
  });

  it('--watch --format json prints one JSON object a line, and stream_closed (7) when the server ends it', async ({
    stub,
  }) => {
    const child = start(['rule-stats', 'r1', '--watch', '--format', 'json'], {
      SLUICE_SERVER: stub.url,
      SLUICE_TOKEN: ADMIN_TOKEN,
    });
    const done = finish(child);
    await stub.streamOpened();
    stub.emitStats(ruleStats('r1', { bytesIn: 4096 }));
    // The event is written before the stream ends, on the same connection, so it arrives first.
    stub.endStreams();
    const run = await done;
    expect(run.code).toBe(7);
    expect(run.stderr).toBe(
      `stream_closed: the sluice server at ${stub.url}/ ended the stream of GET /v1/stats/stream?rule=r1\n`,
    );
    const objects = run.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { bytesIn: number });
    expect(objects.map((stats) => stats.bytesIn)).toEqual([1536, 4096]);
  });

  it('--watch ends quietly with 0 when its reader goes away (| head)', async ({ stub }) => {
    const child = start(['rule-stats', 'r1', '--watch'], {
      SLUICE_SERVER: stub.url,
      SLUICE_TOKEN: ADMIN_TOKEN,
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    await new Promise<void>((resolve) => child.stdout?.once('data', () => resolve()));
    child.stdout?.destroy();
    await stub.streamOpened();
    // Lines until a write fails: the first may still fit the pipe's buffer before it is seen closed.
    const timer = setInterval(() => stub.emitStats(ruleStats('r1')), 50);
    const code = await exited.finally(() => clearInterval(timer));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('--watch fails with not_found (13) for an unknown rule, before streaming', async ({ stub }) => {
    const run = await ctl(stub, ['rule-stats', 'r404', '--watch']);
    expect(run.code).toBe(13);
    expect(run.stderr).toBe('not_found: no rule "r404"\n');
  });
});

describe('network failures name the server', () => {
  it('server_unreachable (4) when nothing listens', async ({ stub }) => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const run = await ctl(stub, ['edges', '--server', url]);
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(
      new RegExp(`^server_unreachable: cannot reach the sluice server at ${url}/: connect ECONNREFUSED`),
    );
  });

  it('server_timeout (5) when the server does not answer within --timeout', async ({ stub }) => {
    const run = await ctl(stub, ['edges', '--server', `${stub.url}/slow/`, '--timeout', '0.3']);
    expect(run.code).toBe(5);
    expect(run.stderr).toBe(
      `server_timeout: the sluice server at ${stub.url}/slow/ did not answer GET /v1/edges within 0.3 s\n`,
    );
    expect(lastRequest(stub).path).toBe('/slow/v1/edges');
  });

  it('bad_response (6) when the URL is not the sluice API', async ({ stub }) => {
    const run = await ctl(stub, ['edges', '--server', `${stub.url}/not-api`]);
    expect(run.code).toBe(6);
    expect(run.stderr).toBe(
      `bad_response: the sluice server at ${stub.url}/not-api answered GET /v1/edges with HTTP 502 Bad Gateway and no sluice error body; is ${stub.url}/not-api the sluice API listener?\n`,
    );
  });
});

describe('usage', () => {
  it('prints help on stdout and exits 0', async ({ stub }) => {
    const run = await ctl(stub, ['--help'], { SLUICE_SERVER: undefined });
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
    ]) {
      expect(run.stdout).toContain(`  ${command}`);
    }
    const topic = await ctl(stub, ['help', 'push-rule']);
    expect(topic.code).toBe(0);
    expect(topic.stdout).toMatch(/^Usage: sluicectl push-rule \[options\] <edge> <listen> \[targets\.\.\.\]/);
  });

  it('refuses no command and an unknown command with bad_usage (2)', async ({ stub }) => {
    const none = await ctl(stub, []);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^bad_usage: no command given; commands: enroll, edges, push-rule/);
    const unknown = await ctl(stub, ['lsit-rules']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^bad_usage: unknown command "lsit-rules"; commands: /);
  });

  it('refuses an unknown flag with bad_usage (2)', async ({ stub }) => {
    const run = await ctl(stub, ['edges', '--colour']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("bad_usage: unknown option '--colour'\n(see sluicectl edges --help)\n");
  });
});
