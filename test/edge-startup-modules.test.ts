// What an idle edge loads, thread by thread (the edge's own memory, benchmarks/README.md): a
// shard loads the relay and nothing of configuration parsing, logging or metrics, and no thread
// starts Node's TypeScript compiler (the sources come pre-stripped); a standalone edge's main
// thread leaves the config's validator (read on a thread that ends), the managed edge's modules
// and the terminal log formatter unloaded. A test that fails here is an eager import on a path
// that should not have it. A shard on the native path keeps no copy of V8's builtins of its own
// (shard-pool.ts).

import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '@sluice/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { runCleanup } from './helpers/cleanup.ts';
import { launchEdge } from './helpers/edge-fixture.ts';
import { REPO_ROOT } from './helpers/edge-process.ts';
import { startEchoTarget } from './helpers/target-server.ts';
import { echoRoundTrip } from './helpers/tcp-client.ts';
import { makeTempDir } from './helpers/temp-dir.ts';

afterEach(runCleanup);

const RECORDER = join(REPO_ROOT, 'test', 'helpers', 'module-recorder.js');
const MAIN_THREAD = 0;
const READER_ENTRY = 'apps/edge/src/config-reader-thread.js';

/**
 * Off every shard's path: config parsing and validation, logging, metrics, the CLI, and
 * node:crypto (about 1.4 MiB a thread; the pre-stripped sources are matched without a hash).
 */
const NOT_IN_SHARDS = [
  'node:crypto',
  '/zod@',
  '/smol-toml@',
  '/pino@',
  '/pino-pretty@',
  '/prom-client@',
  '/commander@',
  'packages/config/src/schema.ts',
  'packages/config/src/load.ts',
  'packages/protocol/',
];

/**
 * Off a standalone edge's main thread (its log goes to a pipe here, not a terminal): the config's
 * parser and validator (config-reader.ts), the managed edge's modules, and with them the control
 * protocol's schemas.
 */
const NOT_IN_STANDALONE_MAIN = [
  '/zod@',
  '/smol-toml@',
  'packages/config/src/schema.ts',
  'packages/config/src/load.ts',
  'apps/edge/src/bundle-file.ts',
  'packages/protocol/',
  'apps/edge/src/control-client.ts',
  'apps/edge/src/server-rule-source.ts',
  'apps/edge/src/enroll.ts',
  '/pino-pretty@',
];

/**
 * Prints the executable mappings of the node binary in process argv[1] (`self`: its own). V8 may
 * copy the binary's embedded builtins into an isolate's code range: one more such mapping, about
 * 2 MiB resident, per thread that has a copy.
 */
const COUNT_NODE_CODE = `
const maps = require('node:fs').readFileSync('/proc/' + process.argv[1] + '/maps', 'utf8');
const lines = maps.split('\\n').filter((l) => l.endsWith(' ' + process.execPath) && l.split(' ')[1].includes('x'));
console.log(lines.length);`;

function nodeCodeMappings(pid: number | 'self'): number {
  return Number(execFileSync(process.execPath, ['-e', COUNT_NODE_CODE, String(pid)]).toString());
}

function recorded(dir: string): Map<number, string[]> {
  const threads = new Map<number, string[]>();
  for (const file of readdirSync(dir)) {
    threads.set(
      Number(file.replace('.txt', '')),
      readFileSync(join(dir, file), 'utf8').split('\n').filter(Boolean),
    );
  }
  return threads;
}

describe('what an idle edge loads', () => {
  it('keeps shards to the relay and the main thread to the standalone edge, with no type stripper', async () => {
    const target = await startEchoTarget();
    const listenPort = await freePort();
    const record = makeTempDir();
    await launchEdge({
      relayPath: 'splice',
      config: { shards: 2, rules: [{ name: 'web', listenPort, targetPorts: [target.port] }] },
      env: { SLUICE_MODULE_RECORD: record },
      nodeArgs: ['--import', RECORDER],
    });
    // A relayed connection: the lazy paths of a shard at work have run too.
    await echoRoundTrip(listenPort, 'hello');

    const threads = recorded(record);
    // The config was read on a thread of its own, which loaded the validator.
    const readers = [...threads].filter(([, modules]) => modules[0]?.endsWith(READER_ENTRY));
    expect(readers.length).toBe(1);
    expect(readers[0]?.[1].some((m) => m.endsWith('packages/config/src/schema.ts'))).toBe(true);
    const shards = [...threads].filter(
      ([id]) => id !== MAIN_THREAD && !readers.some(([reader]) => reader === id),
    );
    expect(shards.length).toBe(2);
    for (const [id, modules] of shards) {
      // The shard did load its own code (the recorder saw it), pre-stripped.
      expect(
        modules.some((m) => m.endsWith('packages/core/src/tcp-rule.ts')),
        `shard thread ${id}`,
      ).toBe(true);
      expect(
        modules.filter((m) => NOT_IN_SHARDS.some((p) => m.includes(p))),
        `shard thread ${id}`,
      ).toEqual([]);
      expect(modules, `shard thread ${id}`).not.toContain('type-stripper');
    }
    const main = threads.get(MAIN_THREAD) ?? [];
    expect(main.some((m) => m.endsWith('apps/edge/src/main.ts'))).toBe(true);
    expect(main.filter((m) => NOT_IN_STANDALONE_MAIN.some((p) => m.includes(p)))).toEqual([]);
    expect(main).not.toContain('type-stripper');
  });

  // The JS relay keeps V8's near calls into builtins (shard-pool.ts): a copy in each shard.
  it.each([
    ['native', 0],
    ['js', 2],
  ] as const)(
    'on the %s path, 2 shards map %i copies of node code beyond a bare node’s',
    async (relayPath, copies) => {
      const target = await startEchoTarget();
      const listenPort = await freePort();
      const { edge } = await launchEdge({
        relayPath,
        config: { shards: 2, rules: [{ name: 'web', listenPort, targetPorts: [target.port] }] },
      });
      await echoRoundTrip(listenPort, 'hello');
      expect(nodeCodeMappings(edge.pid)).toBe(nodeCodeMappings('self') + copies);
    },
  );
});
