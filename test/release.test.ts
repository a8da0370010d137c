// The release as an operator gets it (docs/install.md): `./run release` builds the tarball; it is
// unpacked into a temp dir and its programs run with a PATH that holds no Node and no pnpm; a server
// and an edge from it enroll, take a pushed rule and relay; and install.sh runs for real, as the
// document says, in a root sandbox (helpers/root-sandbox.ts) that leaves the host as it was.

import { execFile, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePorts, removeDir, tempDir } from '@sluice/test-kit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, tcpRule } from './helpers/api-client.ts';
import { deferCleanup, runCleanup } from './helpers/cleanup.ts';
import { commandResult } from './helpers/command-result.ts';
import { everyShCommand } from './helpers/doc-commands.ts';
import { EdgeProcess, REPO_ROOT } from './helpers/edge-process.ts';
import { runInRootSandbox } from './helpers/root-sandbox.ts';
import { adminTokenOf, ServerProcess } from './helpers/server-process.ts';
import { startEchoTarget } from './helpers/target-server.ts';
import { echoRoundTrip } from './helpers/tcp-client.ts';
import { makeTempDir } from './helpers/temp-dir.ts';

afterEach(runCleanup);

const DOC = 'docs/install.md';
const VERSION = (
  JSON.parse(readFileSync(join(REPO_ROOT, 'apps', 'edge', 'package.json'), 'utf8')) as { version: string }
).version;
const ARCH = process.arch;
const NAME = `sluice-${VERSION}-linux-${ARCH}`;
const BUILD = './run release';
const UNPACK = `tar xzf ${NAME}.tar.gz`;
const ENTER = `cd ${NAME}`;
const DRY_RUN = './install.sh --dry-run install edge';
const INSTALL = './install.sh install edge';
const STATUS = './install.sh status';
const UPGRADE = './install.sh upgrade';
const UNINSTALL = './install.sh uninstall';
const BENCH = './run bench:release';

/** The unpacked release, shared by the tests below (built once: it takes ~20 s), and where it was unpacked. */
let tarballDir: string;
let release: string;
/** A PATH with only what the launchers use (sh, dirname, readlink): no node, no pnpm. */
let barePath: string;

beforeAll(async () => {
  await promisify(execFile)('bash', ['-c', BUILD], { cwd: REPO_ROOT, timeout: 240_000 });
  tarballDir = tempDir('sluice-release-');
  cpSync(join(REPO_ROOT, 'dist', `${NAME}.tar.gz`), join(tarballDir, `${NAME}.tar.gz`));
  await promisify(execFile)('tar', ['xzf', `${NAME}.tar.gz`], { cwd: tarballDir });
  release = join(tarballDir, NAME);
  barePath = join(tarballDir, 'bare-path');
  mkdirSync(barePath);
  for (const tool of ['sh', 'dirname', 'readlink']) symlinkSync(join('/usr/bin', tool), join(barePath, tool));
}, 300_000);

afterAll(() => removeDir(tarballDir));

function bareEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: barePath, HOME: tarballDir, SLUICE_LOG_FORMAT: 'json', ...extra };
}

function runRelease(binary: string, args: readonly string[]) {
  const child = spawn(join(release, 'bin', binary), args, {
    env: bareEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return commandResult(child, `${binary} ${args.join(' ')}`, 30_000);
}

it('documents exactly the commands this file runs', () => {
  expect(everyShCommand(DOC).map((c) => c.text)).toEqual([
    BUILD,
    UNPACK,
    ENTER,
    DRY_RUN,
    INSTALL,
    STATUS,
    UPGRADE,
    UNINSTALL,
    BENCH,
  ]);
});

describe('the release tarball', () => {
  it('holds the runtime, one bundle per program, the addon, the console and the units, and no source', () => {
    for (const file of [
      'bin/sluice-edge',
      'bin/sluice-server',
      'bin/sluicectl',
      'install.sh',
      'node/bin/node',
    ]) {
      expect(statSync(join(release, file)).mode & 0o111, file).not.toBe(0);
    }
    expect(readdirSync(join(release, 'lib')).sort()).toEqual([
      'config-reader-thread.js',
      'shard-boot.js',
      'sluice-edge.js',
      'sluice-server.js',
      'sluice_splice.node',
      'sluicectl.js',
    ]);
    expect(readdirSync(join(release, 'systemd')).sort()).toEqual([
      'sluice-edge.service',
      'sluice-server.service',
    ]);
    expect(existsSync(join(release, 'web', 'index.html'))).toBe(true);
    expect(readFileSync(join(release, 'VERSION'), 'utf8')).toBe(`${VERSION}\n`);
    const everything = readdirSync(release, { recursive: true }).map(String);
    expect(everything.filter((path) => path.split('/').includes('node_modules'))).toEqual([]);
    expect(everything.filter((path) => path.endsWith('.ts'))).toEqual([]);
  });

  it('runs each program with no Node and no pnpm on PATH', async () => {
    const node = await runRelease('sluice-edge', ['--version']);
    expect(node.code, node.stderr).toBe(0);
    expect(node.stdout).toBe(
      `sluice-edge ${VERSION} (node ${process.version}, relay: splice; splice: loaded lib/sluice_splice.node)\n`,
    );
    const server = await runRelease('sluice-server', ['--version']);
    expect(server.stdout).toBe(`sluice-server ${VERSION} (node ${process.version})\n`);
    const ctl = await runRelease('sluicectl', ['--version']);
    expect(ctl.stdout).toBe(`${VERSION}\n`);
    const noNode = spawn('sh', ['-c', 'command -v node pnpm || echo none'], {
      env: bareEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect((await commandResult(noNode, 'command -v', 5_000)).stdout).toBe('none\n');
  });

  it('a server and an edge from it enroll, take a pushed rule and relay intact', async () => {
    const dir = makeTempDir();
    const [control, api, metrics, edgeMetrics, listen] = await freePorts(5);
    const serverChild = spawn(
      join(release, 'bin', 'sluice-server'),
      [
        'serve',
        '--data-dir',
        join(dir, 'data'),
        '--control',
        `127.0.0.1:${control}`,
        '--api',
        `127.0.0.1:${api}`,
        '--metrics',
        `127.0.0.1:${metrics}`,
      ],
      { env: bareEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const server = new ServerProcess(serverChild, join(dir, 'data'), {
      control: control!,
      api: api!,
      metrics: metrics!,
    });
    deferCleanup(() => server.kill());
    await server.waitForMsg('sluice-server ready', {}, 20_000);
    const client = new ApiClient(server.apiUrl, await adminTokenOf(server));

    // The console is served from the release's web/.
    const page = await fetch(`${server.apiUrl}/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<title>sluice console</title>');
    const script = /src="(\/assets\/index-[\w-]+\.js)"/.exec(html)?.[1];
    expect((await fetch(`${server.apiUrl}${script}`)).status).toBe(200);

    const enrollment = await client.enroll('release-edge');
    const bundle = join(dir, 'edge.bundle');
    const enroll = await runRelease('sluice-edge', ['enroll', enrollment.uri, '--bundle', bundle]);
    expect(enroll.code, enroll.stderr).toBe(0);
    const edgeChild = spawn(
      join(release, 'bin', 'sluice-edge'),
      ['--bundle', bundle, '--shards', '2', '--metrics', `127.0.0.1:${edgeMetrics}`],
      { env: bareEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const edge = new EdgeProcess(edgeChild);
    deferCleanup(() => edge.kill());
    await edge.waitForMsg('control connected', {}, 20_000);
    expect(edge.logs.filter((log) => log.msg === 'shard started').map((log) => log.relay)).toEqual([
      'splice',
      'splice',
    ]);

    const target = await startEchoTarget();
    const rule = await client.pushActive('release-edge', tcpRule('web', listen!, target.port));
    expect(rule.state).toBe('active');
    await echoRoundTrip(listen!, 'through the released edge');

    // The edge runs the bundle on the shipped runtime: nothing of a checkout is open in it.
    const maps = readFileSync(`/proc/${edge.pid}/maps`, 'utf8');
    expect(maps).toContain(join(release, 'node', 'bin', 'node'));
    expect(maps).toContain(join(release, 'lib', 'sluice_splice.node'));
    expect(maps).not.toContain('node_modules');
    expect(readFileSync(`/proc/${edge.pid}/cmdline`, 'utf8').split('\0')).toContain(
      join(release, 'lib', 'sluice-edge.js'),
    );
  });
});

describe('install.sh', () => {
  it('installs, reports, upgrades and uninstalls as docs/install.md says, and a second install changes nothing', async () => {
    const result = await runInRootSandbox(
      [
        `cd ${tarballDir}`,
        UNPACK,
        ENTER,
        'echo "== dry run"',
        DRY_RUN,
        'test ! -e /opt/sluice && ! id sluice 2>/dev/null && echo "dry run changed nothing"',
        'echo "== install"',
        INSTALL,
        'echo "== again"',
        INSTALL,
        'echo "== status"',
        STATUS,
        'echo "== verify"',
        'systemd-analyze verify /etc/systemd/system/sluice-edge.service /etc/systemd/system/sluice-server.service && echo "units verified"',
        'stat -c "%n %U:%G %a" /etc/sluice /etc/sluice/edge.toml /var/lib/sluice/edge',
        'runuser -u sluice -- sluice-edge --config /etc/sluice/edge.toml --check && echo "config readable by sluice"',
        'echo "== upgrade"',
        UPGRADE,
        'echo "== uninstall"',
        UNINSTALL,
        'test ! -e /opt/sluice && test ! -e /usr/local/bin/sluice-edge && test -f /etc/sluice/edge.toml && id sluice >/dev/null && echo "kept config and user"',
      ].join('\n'),
      tarballDir,
    );
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    const [, dry, install, again, status, verify, upgrade, uninstall] = result.stdout.split(/^== .*$/m);

    expect(dry).toContain(`+ cp -a ${release} /opt/sluice/${VERSION}.sluice-new`);
    expect(dry).toContain('+ systemd-sysusers /etc/sysusers.d/sluice.conf');
    expect(dry).toContain('+ write /etc/sysctl.d/60-sluice.conf (mode 0644)');
    expect(dry).toContain('+ systemctl enable sluice-edge.service');
    expect(dry).toContain('dry run changed nothing');

    expect(install).toContain(`+ mv -T /opt/sluice/current.sluice-new /opt/sluice/current`);
    expect(install).toContain('+ write /etc/sluice/edge.toml (mode 0640, group sluice)');
    expect(result.stderr).toContain("Creating user 'sluice'");

    // Nothing that was in place is done again; the operator's config is kept.
    expect(again).not.toMatch(/^\+ (cp|mv|ln|write) /m);
    expect(again).toContain(`= /opt/sluice/${VERSION} (unchanged)`);
    expect(again).toContain('= /etc/sluice/edge.toml (kept: it exists)');

    expect(status).toContain(`current: ${VERSION}; installed: ${VERSION}`);
    expect(status).toContain('user: sluice');
    expect(status).toContain('sluice-edge.service: installed');
    expect(status).toContain('net.ipv4.tcp_migrate_req = 1');

    expect(verify).toContain('units verified');
    expect(verify).toContain('/etc/sluice root:sluice 750');
    expect(verify).toContain('/etc/sluice/edge.toml root:sluice 640');
    expect(verify).toContain('/var/lib/sluice/edge sluice:sluice 700');
    expect(verify).toContain('config readable by sluice');

    expect(upgrade).toContain(`upgraded to ${VERSION} (from ${VERSION})`);
    expect(uninstall).toContain('kept config and user');
  });

  it('upgrades to a newer release, keeps the previous one for a rollback, and --purge removes everything', async () => {
    const next = join(makeTempDir(), 'sluice-next');
    cpSync(release, next, { recursive: true });
    writeFileSync(join(next, 'VERSION'), '99.0.0\n');
    const result = await runInRootSandbox(
      [
        `${release}/install.sh install edge >/dev/null`,
        'echo "== upgrade"',
        `${next}/install.sh upgrade`,
        'readlink /opt/sluice/current',
        'ls /opt/sluice',
        'echo "== purge"',
        `${next}/install.sh uninstall --purge`,
        'test ! -e /etc/sluice && test ! -e /var/lib/sluice && ! id sluice 2>/dev/null && echo "all gone"',
      ].join('\n'),
      tarballDir,
    );
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    const [, upgrade, purge] = result.stdout.split(/^== .*$/m);
    expect(upgrade).toContain(`upgraded to 99.0.0 (from ${VERSION})`);
    expect(upgrade).toContain(`roll back with /opt/sluice/${VERSION}/install.sh upgrade`);
    expect(upgrade).toMatch(/^99\.0\.0$/m);
    expect(upgrade).toContain(`${VERSION}\n99.0.0\ncurrent`);
    expect(purge).toContain('all gone');
  });

  it('refuses an unknown command or option with a line that names it, and changes nothing', async () => {
    const result = await runInRootSandbox(
      [
        `${release}/install.sh frobnicate || echo "exit $?"`,
        `${release}/install.sh --force install edge || echo "exit $?"`,
        `${release}/install.sh install toaster || echo "exit $?"`,
        'test ! -e /opt/sluice && echo "nothing installed"',
      ].join('\n'),
      tarballDir,
    );
    expect(result.stderr).toContain('sluice install: unknown command frobnicate (see ./install.sh --help)');
    expect(result.stderr).toContain('sluice install: unknown option --force (see ./install.sh --help)');
    expect(result.stderr).toContain('./install.sh [--dry-run] install edge|server');
    expect(result.stdout).toBe('exit 1\nexit 1\nexit 2\nnothing installed\n');
  });
});

it('bench:release starts an idle edge from the release and from ./run edge and reports both', {
  timeout: 180_000,
}, async () => {
  const { stdout } = await promisify(execFile)('bash', ['-c', BENCH], { cwd: REPO_ROOT, timeout: 170_000 });
  expect(stdout).toMatch(/^\| release \| \d+ ms \| [\d.]+ MiB \|$/m);
  expect(stdout).toMatch(/^\| \.\/run edge \| \d+ ms \| [\d.]+ MiB \|$/m);
  const report = JSON.parse(
    readFileSync(join(REPO_ROOT, 'benchmarks', 'out', 'release', 'release.json'), 'utf8'),
  ) as {
    runs: number;
    starts: Record<string, { readyMs: number; rssMiB: number }[]>;
  };
  expect(report.runs).toBe(3);
  expect(report.starts.release).toHaveLength(3);
  expect(report.starts['./run edge']).toHaveLength(3);
  // The RSS read is the edge's own process (tens of MiB), not the shell or pnpm in front of it.
  for (const start of [...report.starts.release!, ...report.starts['./run edge']!]) {
    expect(start.rssMiB).toBeGreaterThan(40);
  }
});
