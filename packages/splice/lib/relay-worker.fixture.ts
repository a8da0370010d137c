// Test fixture: a worker thread that loads the addon itself (as a shard does) and runs a splice
// front on its own loop. Driven by worker.test.ts over messages.

import { parentPort, workerData } from 'node:worker_threads';
import { loadSplice, spliceStatus } from './index.ts';
import { COUNTER_FIELDS, SpliceFront } from './relay-harness.fixture.ts';

export interface WorkerInput {
  readonly targetPort: number;
  readonly counters: SharedArrayBuffer;
  readonly row: number;
}

export type WorkerRequest =
  | { readonly type: 'stats' }
  | { readonly type: 'destroy-all-and-exit-on-first-close' };

const port = parentPort;
if (port === null) throw new Error('relay-worker.fixture.ts runs as a worker');
const input = workerData as WorkerInput;
const status = spliceStatus();
const splice = loadSplice();

if (splice === null) {
  port.postMessage({ type: 'status', status });
} else {
  splice.init(input.counters, COUNTER_FIELDS);
  const front = await new SpliceFront(splice, { targetPort: input.targetPort, row: input.row }).start();
  front.on('started', (id: number) => port.postMessage({ type: 'started', id }));
  let exitOnClose = false;
  front.on('closed', (result) => {
    port.postMessage({ type: 'closed', result });
    // The other relays' close callbacks are still queued in this loop turn: they now run in a
    // stopping environment.
    if (exitOnClose) process.exit(7);
  });
  port.on('message', (request: WorkerRequest) => {
    if (request.type === 'stats') port.postMessage({ type: 'stats', stats: splice.stats() });
    if (request.type === 'destroy-all-and-exit-on-first-close') {
      exitOnClose = true;
      for (const id of front.ids) splice.destroy(id);
    }
  });
  port.postMessage({ type: 'ready', port: front.port, status });
}
