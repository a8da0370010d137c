// ./run release: builds dist/sluice-VERSION-linux-ARCH.tar.gz, what an operator installs on a
// host without the source tree (docs/install.md). It holds the Node runtime `./run` uses, one
// bundled file per binary (plus the edge's shard and config reader threads), the splice addon
// built for that Node, the console's assets, the launchers, the systemd units, install.sh and
// the observability kit.
//
// A tarball with its runtime beside it, not Node's single executable applications: a SEA cannot
// load a native addon from its own blob (it would have to write it to disk first) and a shard is
// a worker thread started from a file, so a SEA edge would unpack files at start anyway.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { build } from 'rolldown';

const ROOT = join(import.meta.dirname, '..');

interface Binary {
  /**
   * The bundle's name in lib/ (the edge's thread files are named as shard-pool.ts and
   * config-reader.ts start them).
   */
  readonly name: string;
  readonly entry: string;
}

const BINARIES: readonly Binary[] = [
  { name: 'sluice-edge', entry: 'apps/edge/src/main.ts' },
  { name: 'shard-boot', entry: 'packages/core/src/shard-entry.ts' },
  { name: 'config-reader-thread', entry: 'apps/edge/src/config-reader-entry.ts' },
  { name: 'sluice-server', entry: 'apps/server/src/main.ts' },
  { name: 'sluicectl', entry: 'apps/ctl/src/main.ts' },
];
const ADDON = 'packages/splice/build/Release/sluice_splice.node';
const WEB = 'apps/web/dist';
const APP_MANIFESTS = ['apps/edge/package.json', 'apps/server/package.json', 'apps/ctl/package.json'];

function fail(message: string): never {
  process.stderr.write(`sluice release: ${message}\n`);
  process.exit(1);
}

function manifestVersion(path: string): string {
  const version = (JSON.parse(readFileSync(join(ROOT, path), 'utf8')) as { version?: unknown }).version;
  if (typeof version !== 'string') fail(`${path} has no "version"`);
  return version;
}

/** One version for the release: the three apps must agree, or the tarball's name would lie. */
function releaseVersion(): string {
  const versions = new Map(APP_MANIFESTS.map((path) => [path, manifestVersion(path)]));
  const distinct = new Set(versions.values());
  if (distinct.size !== 1) {
    fail(`the apps' versions differ: ${[...versions].map(([path, v]) => `${path} ${v}`).join(', ')}`);
  }
  return [...distinct][0] as string;
}

function nodeArch(): string {
  if (process.arch === 'x64' || process.arch === 'arm64') return process.arch;
  return fail(`no Node package for CPU ${process.arch}`);
}

/** The Node binary `./run` brought into .tools/ (npm package node-linux-ARCH), never the system's. */
function nodeRuntime(arch: string): string {
  const version = readFileSync(join(ROOT, '.node-version'), 'utf8').trim();
  const dir = join(ROOT, '.tools', `node-${version}`, 'node_modules', `node-linux-${arch}`);
  if (!existsSync(join(dir, 'bin', 'node'))) fail(`no Node ${version} in ${dir}: run it as ./run release`);
  if (process.version !== `v${version}`) {
    fail(`running on Node ${process.version}, but the release ships ${version}: run it as ./run release`);
  }
  return dir;
}

function requireBuilt(path: string, what: string): string {
  const absolute = join(ROOT, path);
  if (!existsSync(absolute)) fail(`${what} is not built (no ${path}); ./run builds it on install`);
  return absolute;
}

async function bundle(binary: Binary, libDir: string): Promise<void> {
  await build({
    input: join(ROOT, binary.entry),
    cwd: ROOT,
    platform: 'node',
    logLevel: 'warn',
    output: {
      file: join(libDir, `${binary.name}.js`),
      format: 'esm',
      // One file per binary: dynamic imports (the managed edge's control client, the PostgreSQL
      // store) are inlined as lazily run modules rather than split into chunks.
      codeSplitting: false,
    },
  });
}

function commitTime(): number {
  try {
    return Number(execFileSync('git', ['log', '-1', '--format=%ct'], { cwd: ROOT, encoding: 'utf8' }).trim());
  } catch {
    return Math.floor(Date.now() / 1000);
  }
}

async function main(): Promise<void> {
  const version = releaseVersion();
  const arch = nodeArch();
  const runtime = nodeRuntime(arch);
  const addon = requireBuilt(ADDON, 'the splice addon');
  const web = requireBuilt(join(WEB, 'index.html'), 'the web console');
  const name = `sluice-${version}-linux-${arch}`;
  const dist = join(ROOT, 'dist');
  const tree = join(dist, name);
  rmSync(tree, { recursive: true, force: true });
  mkdirSync(join(tree, 'lib'), { recursive: true });

  for (const binary of BINARIES) await bundle(binary, join(tree, 'lib'));
  cpSync(addon, join(tree, 'lib', 'sluice_splice.node'));
  mkdirSync(join(tree, 'node', 'bin'), { recursive: true });
  cpSync(join(runtime, 'bin', 'node'), join(tree, 'node', 'bin', 'node'));
  cpSync(join(runtime, 'LICENSE'), join(tree, 'node', 'LICENSE'));
  cpSync(join(web, '..'), join(tree, 'web'), { recursive: true });
  cpSync(join(ROOT, 'deploy', 'release', 'bin'), join(tree, 'bin'), { recursive: true });
  cpSync(join(ROOT, 'deploy', 'systemd'), join(tree, 'systemd'), { recursive: true });
  cpSync(join(ROOT, 'deploy', 'install.sh'), join(tree, 'install.sh'));
  cpSync(join(ROOT, 'deploy', 'grafana'), join(tree, 'deploy', 'grafana'), { recursive: true });
  cpSync(join(ROOT, 'deploy', 'prometheus'), join(tree, 'deploy', 'prometheus'), { recursive: true });
  cpSync(join(ROOT, 'examples'), join(tree, 'examples'), { recursive: true });
  cpSync(join(ROOT, 'docs'), join(tree, 'docs'), { recursive: true });
  for (const executable of ['bin/sluice-edge', 'bin/sluice-server', 'bin/sluicectl', 'install.sh']) {
    chmodSync(join(tree, executable), 0o755);
  }
  // The bundles are ES modules named .js; the threads' file names are fixed by their starters.
  writeFileSync(
    join(tree, 'package.json'),
    `${JSON.stringify({ name: 'sluice', version, private: true, type: 'module' }, null, 2)}\n`,
  );
  writeFileSync(join(tree, 'VERSION'), `${version}\n`);

  const tarball = join(dist, `${name}.tar.gz`);
  // Reproducible: sorted names, no owner, every mtime the last commit's.
  execFileSync('tar', [
    '--sort=name',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    `--mtime=@${commitTime()}`,
    '-czf',
    tarball,
    '-C',
    dist,
    name,
  ]);
  // The format sha256sum -c reads.
  const sha = createHash('sha256').update(readFileSync(tarball)).digest('hex');
  writeFileSync(`${tarball}.sha256`, `${sha}  ${name}.tar.gz\n`);
  const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  process.stdout.write(`${tarball} (${mib(statSync(tarball).size)})\n`);
}

await main();
