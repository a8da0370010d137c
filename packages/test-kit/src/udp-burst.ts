// A burst of UDP datagrams from a child process run with spawnSync: the caller's thread (and its
// loop) is blocked until the burst has left, so a relay on that loop cannot read meanwhile, and
// one on another process meets datagrams as fast as a tight loop sends them.

import { spawnSync } from 'node:child_process';

/** Sends `count` datagrams of `bytes` to 127.0.0.1:`port`; answers how many the kernel took. */
export function udpBurst(port: number, count: number, bytes: number): number {
  const script = `
const socket = require('node:dgram').createSocket('udp4');
const payload = Buffer.alloc(${bytes}, 120);
let sent = 0;
let done = 0;
for (let i = 0; i < ${count}; i++) {
  socket.send(payload, ${port}, '127.0.0.1', (err) => {
    if (!err) sent++;
    if (++done === ${count}) { process.stdout.write(String(sent)); socket.close(); }
  });
}`;
  const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
  if (child.status !== 0) throw new Error(`the UDP burst failed: ${child.stderr || child.error?.message}`);
  return Number(child.stdout);
}
