// Install-time build of the splice addon (the package's `install` script, which pnpm runs for
// workspace packages on `pnpm install`). Builds from source with node-gyp against the headers
// of the Node that runs this script (npm_config_nodedir, which ./run exports, or the headers
// next to this node binary): nothing is downloaded.
//
// A failed build must not fail the install: sluice then runs the JS relay path. So on failure
// this prints one line, writes that line to build/build-failure.txt (the loader adds it to
// spliceStatus().reason), keeps node-gyp's output in build/install.log, and exits 0.
// `--strict` (the `build` script) streams node-gyp's output and exits non-zero instead.
//
// Plain JavaScript, not TypeScript: it runs before anything else, on whatever Node the
// installer uses (engines allows 22.12, which does not strip types by default).

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const strict = process.argv.includes('--strict');
const buildDir = join(root, 'build');
const failureFile = join(buildDir, 'build-failure.txt');
const logFile = join(buildDir, 'install.log');
const stampFile = join(buildDir, 'build-stamp');
const lockDir = join(root, '.build-lock');
const binary = 'build/Release/sluice_splice.node';
const tag = '@sluice/splice:';
// Whether this process holds lockDir (lock() below). Declared before fail() can first run, which
// unlocks: a failure found before the lock was taken must still print its line, not a TDZ error.
let locked = false;

function done(line) {
  unlock();
  console.log(`${tag} ${line}`);
  process.exit(0);
}

function fail(reason, log) {
  unlock();
  mkdirSync(buildDir, { recursive: true });
  writeFileSync(failureFile, `${reason}\n`);
  if (log !== undefined) writeFileSync(logFile, log);
  const where = log !== undefined ? ` (log: ${relative(process.cwd(), logFile) || logFile})` : '';
  console.log(`${tag} native build failed: ${reason}; sluice will use the JS relay path${where}`);
  process.exit(strict ? 1 : 0);
}

if (process.platform !== 'linux') {
  fail(`splice(2) is Linux-only (platform ${process.platform}), nothing to build`);
}

const require = createRequire(import.meta.url);
let nodeGyp;
try {
  nodeGyp = require.resolve('node-gyp/bin/node-gyp.js');
  require.resolve('node-addon-api');
} catch {
  fail('node-gyp or node-addon-api is not installed (devDependencies of @sluice/splice)');
}

// Node's own headers: npm_config_nodedir if set, else the install prefix of this node binary.
function hasHeaders(dir) {
  return (
    existsSync(join(dir, 'include', 'node', 'node_api.h')) &&
    existsSync(join(dir, 'include', 'node', 'common.gypi'))
  );
}
const prefix = dirname(dirname(process.execPath));
const nodedir = [process.env.npm_config_nodedir, prefix].find((dir) => dir && hasHeaders(dir));
if (!nodedir) {
  fail(
    `no Node headers next to ${process.execPath} and npm_config_nodedir unset; run through ./run, or set npm_config_nodedir to a Node ${process.version} install`,
  );
}

// The usual reason a build fails: no toolchain. Say so plainly instead of node-gyp's stack.
function onPath(command) {
  if (command.includes('/')) return existsSync(command);
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir && existsSync(join(dir, command)));
}
const cxx = process.env.CXX?.split(' ')[0];
if (cxx ? !onPath(cxx) : !['c++', 'g++', 'clang++'].some(onPath)) {
  fail(
    `no C++ compiler (${cxx ?? 'c++, g++ or clang++'} not found; on Debian: apt-get install g++ make python3)`,
  );
}
if (!onPath('make')) fail('make not found (on Debian: apt-get install make)');
if (!['python3', 'python'].some(onPath) && !process.env.PYTHON) {
  fail('Python not found, node-gyp needs it (on Debian: apt-get install python3)');
}

// What the binary is built from: sources, binding.gyp, node-addon-api and this Node. When the
// stamp matches, a repeated install (any manifest change re-runs `pnpm install`) skips the build.
function sourceStamp() {
  const hash = createHash('sha256').update(`${process.version}\n${nodedir}\n`);
  hash.update(readFileSync(require.resolve('node-addon-api/package.json')));
  for (const file of [
    'binding.gyp',
    ...readdirSync(join(root, 'src'))
      .sort()
      .map((f) => join('src', f)),
  ]) {
    hash.update(`${file}\n`).update(readFileSync(join(root, file)));
  }
  return hash.digest('hex');
}

// Two installs of one checkout at once (two shells, two sessions) would both wipe build/:
// one builds at a time, and the second then finds the binary up to date.
function lock() {
  const waitUntil = Date.now() + 10 * 60_000;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      mkdirSync(lockDir);
      locked = true;
      return;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    let age = 0;
    try {
      age = Date.now() - statSync(lockDir).mtimeMs;
    } catch {
      continue; // released meanwhile
    }
    if (age > 10 * 60_000) rmSync(lockDir, { recursive: true, force: true });
    else if (Date.now() > waitUntil) fail(`another build holds ${relative(process.cwd(), lockDir)}`);
    else Atomics.wait(pause, 0, 0, 250);
  }
}
function unlock() {
  if (locked) rmSync(lockDir, { recursive: true, force: true });
  locked = false;
}

lock();
const stamp = sourceStamp();
const force = process.argv.includes('--force');
if (
  !force &&
  existsSync(join(root, binary)) &&
  existsSync(stampFile) &&
  readFileSync(stampFile, 'utf8') === stamp
) {
  rmSync(failureFile, { force: true });
  done(`${binary} is up to date`);
}

rmSync(failureFile, { force: true });
const args = [nodeGyp, 'rebuild', `--nodedir=${nodedir}`, '--jobs=max'];
const env = {
  ...process.env,
  npm_config_nodedir: nodedir,
  // binding.gyp runs `node -p ...` to find node-addon-api: make it this node.
  PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`,
};

if (strict) {
  const run = spawnSync(process.execPath, args, { cwd: root, env, stdio: 'inherit' });
  if (run.status !== 0) fail(`node-gyp exited with ${run.status ?? run.signal}`);
  writeFileSync(stampFile, stamp);
  done(`built ${binary}`);
}

const run = spawnSync(process.execPath, args, { cwd: root, env, encoding: 'utf8', maxBuffer: 64 << 20 });
const log = `${run.stdout ?? ''}${run.stderr ?? ''}`;
if (run.error) fail(`could not run node-gyp: ${run.error.message}`, log);
if (run.status !== 0 || !existsSync(join(root, binary))) fail(summarize(log, run.status), log);
writeFileSync(logFile, log);
writeFileSync(stampFile, stamp);
done(`built ${binary}`);

// The one line that says why: a missing compiler, make or Python first, else node-gyp's error.
function summarize(output, status) {
  const lines = output.split('\n').map((l) => l.trim());
  const patterns = [
    /(?:g\+\+|c\+\+|cc|gcc|make|clang\+\+?): (?:not found|No such file or directory|command not found)/i,
    /not found: (?:make|g\+\+|c\+\+|cc)/i,
    /find Python.*(?:could not|not found)|Could not find any Python/i,
    /\berror:/,
    /gyp ERR! stack Error: .*/,
  ];
  for (const pattern of patterns) {
    const hit = lines.find((l) => pattern.test(l));
    if (hit) return hit.replace(/^gyp ERR! (?:stack )?/, '');
  }
  return `node-gyp exited with ${status}`;
}
