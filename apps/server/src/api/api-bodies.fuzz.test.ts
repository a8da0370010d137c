// Fuzzing the API's request bodies: every route that takes a body, given any JSON (and JSON
// shaped like its own bodies, with values of any type), answers a 4xx with an error body of the
// contract or a success, never a 5xx. A refused body changes nothing (the audit trail says so).

import { join } from 'node:path';
import { API_ROUTES, apiErrorBodySchema } from '@sluice/api';
import { enrollEdge, FUZZ_TIMEOUT_MS, fuzz, JSON_CODEC } from '@sluice/test-kit';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test-harness.ts';

const CORPUS = join(import.meta.dirname, 'fuzz-corpus');

let test: TestServer;

beforeAll(async () => {
  test = await startTestServer();
  // Things for the paths to name: an enrolled edge, a user.
  const made = await test.request('POST', '/v1/enrollments', { edge: 'edge-01' });
  await enrollEdge({ port: test.controlPort, pin: test.server.certificate.fingerprint }, made.body.code);
  await test.request('POST', '/v1/users', { name: 'alice', role: 'user' });
});
afterAll(async () => {
  await test.stop();
});

const PARAMS: Record<string, readonly string[]> = {
  edge: ['edge-01', 'nope', '%00', 'e_000000000000'],
  owner: ['alice', 'default', 'x'.repeat(70)],
  user: ['alice', 'admin', 'nobody'],
  id: ['r_000000000000', 'x'],
};

const withBody = API_ROUTES.filter(
  (route) => route.method === 'POST' || route.method === 'PUT' || route.method === 'PATCH',
);

const KEYS = [
  'edge',
  'rule',
  'name',
  'listen',
  'targets',
  'protocol',
  'ttl',
  'role',
  'password',
  'user',
  'ports',
  'protocols',
  'limits',
  'bandwidth',
  'max_connections',
  'monthly',
  'bytes',
  'owner',
  'current',
  'new',
  'enabled',
  'from',
  'to',
];
const anyValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(
    '127.0.0.1:18080',
    '0.0.0.0:1-65535',
    'edge-01',
    'alice',
    'tcp',
    'udp',
    '5m',
    '1GiB',
    '',
    '\u0000',
  ),
);
const shaped = fc.dictionary(
  fc.constantFrom(...KEYS),
  fc.oneof(anyValue, fc.dictionary(fc.constantFrom(...KEYS), anyValue, { maxKeys: 5 })),
  {
    maxKeys: 6,
  },
);

const requestArb = fc.record({
  route: fc.integer({ min: 0, max: withBody.length - 1 }),
  params: fc.array(fc.nat(), { minLength: 3, maxLength: 3 }),
  body: fc.oneof(fc.jsonValue({ maxDepth: 3 }), shaped),
});

function pathOf(template: string, picks: readonly number[]): string {
  let i = 0;
  return template.replace(/:([a-z]+)/g, (_, name: string) => {
    const options = PARAMS[name] ?? ['x'];
    return encodeURIComponent(options[(picks[i++] ?? 0) % options.length]!);
  });
}

describe('API request bodies under fuzzing', () => {
  it(
    'answer any body with a success or a 4xx error of the contract, never a 5xx',
    async () => {
      await fuzz({
        corpus: join(CORPUS, 'bodies.corpus'),
        arbitrary: requestArb,
        codec: JSON_CODEC as never,
        check: async (input: { route: number; params: number[]; body: unknown }) => {
          const route = withBody[input.route % withBody.length]!;
          const url = pathOf(route.path, input.params);
          const answer = await test.request(route.method, url, JSON.stringify(input.body));
          expect(
            answer.status,
            `${route.method} ${url} ${JSON.stringify(input.body)}: ${JSON.stringify(answer.body)}`,
          ).toBeLessThan(500);
          if (answer.status >= 400) expect(apiErrorBodySchema.safeParse(answer.body).success).toBe(true);
        },
      });
    },
    FUZZ_TIMEOUT_MS,
  );
});
