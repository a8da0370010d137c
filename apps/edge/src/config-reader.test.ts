import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFIG_ERRORS, loadStandaloneConfig } from '@sluice/config';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readStandaloneConfig } from './config-reader.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-config-reader-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** What a refusal carries, read on this thread or on the reader's. */
async function refusal(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    if (!CONFIG_ERRORS.is(err)) return `not a config error: ${String(err)}`;
    return { code: err.code, message: err.message, details: err.details, exitCode: err.exitCode };
  }
  return 'resolved';
}

const VALID = `name = "edge-a"
shards = 2

[[rules]]
name = "web"
listen = "127.0.0.1:8080-8081"
targets = ["127.0.0.1:9080-9081", "[::1]:9090-9091"]
owner = "alice"
limits = { bandwidth_in = "10Mbit", new_connections_per_sec = 20 }

[owners.alice]
limits = { max_connections = 5 }
`;

describe('the config read on a thread of its own', () => {
  it('is the config this thread would have read, frozen all the way down', async () => {
    const file = write('edge.toml', VALID);
    const config = await readStandaloneConfig(file);
    expect(config).toEqual(await loadStandaloneConfig(file));
    expect(config.rules[0]?.targets[1]?.host).toBe('::1');
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.rules)).toBe(true);
    expect(Object.isFrozen(config.rules[0]?.targets[1])).toBe(true);
    expect(Object.isFrozen(config.owners.alice?.limits)).toBe(true);
  });

  it.each([
    ['config_invalid', 'bad.toml', '[[rules]]\nname = "web"\nlisten = "127.0.0.1:99999"\ntargets = []\n'],
    ['config_syntax', 'syntax.toml', 'name = "edge-a"\n[[rules]\nname = 1\n'],
    ['config_unreadable', 'missing.toml', null],
  ])('refuses with %s, the same error as a read on this thread', async (code, name, text) => {
    const file = text === null ? join(dir, name) : write(name, text);
    const here = await refusal(loadStandaloneConfig(file));
    expect(here).toMatchObject({ code, exitCode: 2 });
    expect(await refusal(readStandaloneConfig(file))).toEqual(here);
  });
});
