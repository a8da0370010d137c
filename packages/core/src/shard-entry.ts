// Worker entry: wires the shard to its port and nothing else (logic lives in shard.ts).

import { parentPort, workerData } from 'node:worker_threads';
import { selectRelayPath } from './relay-select.ts';
import { Shard } from './shard.ts';
import type { ShardInit } from './shard-messages.ts';

if (!parentPort) throw new Error('shard-entry.ts must run in a worker thread');
const init = workerData as ShardInit;
new Shard(init, parentPort, selectRelayPath(init)).start();
