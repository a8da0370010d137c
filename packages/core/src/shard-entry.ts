// Worker entry: wires the shard to its port and nothing else (logic lives in shard.ts).

import { parentPort, workerData } from 'node:worker_threads';
import { Shard } from './shard.ts';
import type { ShardInit } from './shard-messages.ts';

if (!parentPort) throw new Error('shard-entry.ts must run in a worker thread');
new Shard(workerData as ShardInit, parentPort).start();
