// Test fixture: a worker thread that loads the addon, relays one echo through a SpliceFront (or
// none), closes its servers and has nothing left to do. It must then end by itself: the addon
// keeps the worker's loop alive only while a relay has a socket to watch (worker.test.ts).

import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { loadSplice } from './index.ts';
import { COUNTER_FIELDS, closeServer, listen, SpliceFront } from './relay-harness.fixture.ts';

export interface IdleExitInput {
  readonly counters: SharedArrayBuffer;
  readonly relay: boolean;
}

const input = workerData as IdleExitInput;
const splice = loadSplice();
if (splice === null) throw new Error('the splice addon did not load');
splice.init(input.counters, COUNTER_FIELDS);
if (!input.relay) {
  parentPort?.postMessage({ loaded: true });
} else {
  await relayOneEcho();
}

async function relayOneEcho(): Promise<void> {
  if (splice === null) return;
  const target = createServer((socket) => socket.pipe(socket));
  const front = await new SpliceFront(splice, { targetPort: await listen(target), row: 0 }).start();
  const client = connect({ port: front.port, host: '127.0.0.1' });
  client.end('ping');
  let echoed = '';
  client.setEncoding('utf8').on('data', (chunk: string) => {
    echoed += chunk;
  });
  const [[result]] = await Promise.all([once(front, 'closed'), once(client, 'close')]);
  await Promise.all([front.close(), closeServer(target)]);
  parentPort?.postMessage({ echoed, result });
}
