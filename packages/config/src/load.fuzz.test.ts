// Fuzzing the standalone config loader: any text, and any config built from real keys with
// values of any type, loads or is refused with a config error (config_syntax or
// config_invalid) naming the file: never another throw.

import { join } from 'node:path';
import { fuzz } from '@sluice/test-kit';
import fc from 'fast-check';
import { stringify } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { CONFIG_ERRORS } from './errors.ts';
import { parseStandaloneConfig } from './load.ts';

const CORPUS = join(import.meta.dirname, 'fuzz-corpus');
const TEXT_CODEC = {
  encode: (text: string) => JSON.stringify(text),
  decode: (line: string) => JSON.parse(line) as string,
};

function loadsOrRefuses(text: string): void {
  try {
    parseStandaloneConfig(text, '/fuzz/edge.toml');
  } catch (error) {
    expect(CONFIG_ERRORS.is(error), String(error)).toBe(true);
    expect((error as Error).message).toContain('/fuzz/edge.toml');
  }
}

const RULE_KEYS = [
  'name',
  'listen',
  'targets',
  'protocol',
  'balance',
  'connect_timeout_ms',
  'owner',
  'limits',
  'sni',
  'accept_proxy',
  'proxy_protocol',
  'half_close_timeout_secs',
  'idle_timeout_secs',
  'max_flows',
  'health_check',
];
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.constantFrom(
    '127.0.0.1:8080',
    '[::1]:9000-9010',
    '0.0.0.0:1',
    'host.example:443',
    '100Mbit',
    'udp',
    'tcp',
    'v2',
  ),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.array(fc.constantFrom('127.0.0.1:8000', 'x', ''), { maxLength: 3 }),
  fc.dictionary(
    fc.constantFrom('bandwidth', 'max_connections', 'new_connections_per_sec', 'x'),
    fc.oneof(fc.integer(), fc.string({ maxLength: 8 })),
  ),
);
const rule = fc.dictionary(fc.constantFrom(...RULE_KEYS), anyValue, { maxKeys: 8 });
const config = fc.record(
  {
    name: anyValue,
    shards: anyValue,
    metrics: anyValue,
    drain_timeout_secs: anyValue,
    rules: fc.array(rule, { maxLength: 4 }),
    owners: fc.dictionary(fc.string({ maxLength: 8 }), fc.record({ limits: anyValue })),
  },
  { requiredKeys: [] },
);

describe('parseStandaloneConfig under fuzzing', () => {
  it('loads or refuses any config built from its keys, with a config error', async () => {
    await fuzz({
      corpus: join(CORPUS, 'structured.corpus'),
      arbitrary: config.map((document) => stringify(document)),
      codec: TEXT_CODEC,
      check: loadsOrRefuses,
    });
  });

  it('loads or refuses any text, with a config error', async () => {
    await fuzz({
      corpus: join(CORPUS, 'text.corpus'),
      arbitrary: fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.string({
          maxLength: 200,
          unit: fc.constantFrom('[', ']', '=', '"', "'", '\n', 'rules', '.', '{', '}', ',', 'a', '1', ' '),
        }),
      ),
      codec: TEXT_CODEC,
      check: loadsOrRefuses,
    });
  });
});
