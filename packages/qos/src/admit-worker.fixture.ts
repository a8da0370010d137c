// A stand-in shard for qos-table.test.ts: waits at a shared start line, then tries to admit
// `attempts` connections as fast as it can and reports how many it got.

import { parentPort, workerData } from 'node:worker_threads';
import { QosTable } from './qos-table.ts';

interface AdmitJob {
  readonly qos: SharedArrayBuffer;
  readonly start: SharedArrayBuffer;
  readonly owner: number;
  readonly rule: number;
  readonly attempts: number;
  readonly shard: number;
}

const job = workerData as AdmitJob;
const table = new QosTable(job.qos, job.shard);
const start = new Int32Array(job.start);
Atomics.add(start, 1, 1);
Atomics.notify(start, 1);
Atomics.wait(start, 0, 0);
let admitted = 0;
for (let i = 0; i < job.attempts; i++) if (table.admit(job.owner, job.rule) === null) admitted++;
parentPort!.postMessage(admitted);
