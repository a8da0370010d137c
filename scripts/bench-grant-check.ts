// Push latency with and without grants: what the grant check adds to POST /v1/rules. One
// in-process sluice-server (real SQLite, real TLS to a fake edge that acks every rule active);
// 1000 rules pushed one at a time, first by an admin with no grants stored, then on a new server
// by 100 users holding 10 grants each (1000 grants), each pushing 10 rules inside its grants.
// Prints p50 / p99 of both and their ratio (after a warm-up run, the two alternating). `node scripts/bench-grant-check.ts [--rules N]`.

import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { enrollAndConnect, startTestServer } from '@sluice/server/test-harness';
import { ACK_ALL_ACTIVE } from '@sluice/test-kit';

const USERS = 100;
const GRANTS_PER_USER = 10;
const { values } = parseArgs({ options: { rules: { type: 'string', default: '1000' } } });
const RULES = Number(values.rules);

interface Pusher {
  readonly token: string | undefined;
  readonly port: number;
}

async function measure(withGrants: boolean): Promise<number[]> {
  const test = await startTestServer({ config: { ackTimeoutMs: 10_000 } });
  const { edge } = await enrollAndConnect(test, 'bench-edge', ACK_ALL_ACTIVE);
  try {
    const pushers: Pusher[] = [];
    for (let n = 0; n < RULES; n++) pushers.push({ token: undefined, port: 20_000 + n });
    if (withGrants) {
      const { store } = test.server;
      const edgeId = (await store.edges.find('bench-edge'))!.id;
      for (let u = 0; u < USERS; u++) {
        const user = await store.users.create(`user-${u}`, 'user');
        const { token } = await store.users.createToken(user.id);
        // Ten grants of ten ports each; the user's rules land one per grant, in its own block.
        for (let g = 0; g < GRANTS_PER_USER; g++) {
          const portLo = 20_000 + (u * GRANTS_PER_USER + g) * 10;
          await store.grants.create({
            userId: user.id,
            edgeId,
            portLo,
            portHi: portLo + 9,
            protocols: ['tcp'],
          });
        }
        for (let n = u; n < RULES; n += USERS) {
          const g = Math.floor(n / USERS) % GRANTS_PER_USER;
          pushers[n] = {
            token,
            port: 20_000 + (u * GRANTS_PER_USER + g) * 10 + Math.floor(n / (USERS * GRANTS_PER_USER)),
          };
        }
      }
    }
    const samples: number[] = [];
    for (let n = 0; n < RULES; n++) {
      const { token, port } = pushers[n]!;
      const rule = { name: `r${n}`, listen: `127.0.0.1:${port}`, targets: ['127.0.0.1:9'] };
      const started = performance.now();
      const answer = await test.request('POST', '/v1/rules', { edge: 'bench-edge', rule }, token);
      samples.push(performance.now() - started);
      if (answer.status !== 201)
        throw new Error(`push ${n}: ${answer.status} ${JSON.stringify(answer.body)}`);
    }
    return samples;
  } finally {
    await edge.close();
    await test.stop();
  }
}

function quantile(samples: readonly number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

// The first run warms the JIT and is thrown away; then the two alternate, twice each, so load
// on the machine at one moment does not land on one side only.
await measure(false);
const without: number[] = [];
const withGrants: number[] = [];
for (let round = 0; round < 2; round++) {
  without.push(...(await measure(false)));
  withGrants.push(...(await measure(true)));
}
const row = (name: string, samples: number[]) =>
  `${name}: p50 ${quantile(samples, 0.5).toFixed(2)} ms, p99 ${quantile(samples, 0.99).toFixed(2)} ms`;
console.log(`${RULES} pushes per run, two runs each`);
console.log(row('no grants (admin)', without));
console.log(row(`${USERS} users x ${GRANTS_PER_USER} grants`, withGrants));
console.log(`p99 ratio: ${(quantile(withGrants, 0.99) / quantile(without, 0.99)).toFixed(3)}`);
console.log(`p50 ratio: ${(quantile(withGrants, 0.5) / quantile(without, 0.5)).toFixed(3)}`);
