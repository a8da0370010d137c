// The soak's client process: makes the held connections, the churned transfers and the UDP
// flows that `./run soak` asks for over IPC, and tells it how they went. Started by soak/run.ts.

import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createConnection, type Socket } from 'node:net';
import {
  emptyTally,
  isSoakRequest,
  type SoakReply,
  type SoakRequest,
  type TransferTally,
} from '../soak/soak-messages.ts';
import { PayloadPool, runTransfers } from '../soak/transfer.ts';

if (process.send === undefined) {
  process.stderr.write('usage: soak-client.ts (started by ./run soak, with an IPC channel)\n');
  process.exit(2);
}

/** A transfer or a held connection's message that takes longer than this has failed. */
const DEADLINE_MS = 60_000;
const PROGRESS_MS = 500;
/** Each held connection's message: small, so that 9,000 of them are a trickle. */
const HELD_MESSAGE = Buffer.alloc(256, 0x5a);

const send = (reply: SoakReply): void => void process.send!(reply);
const pool = new PayloadPool();
const held = new Set<Socket>();

/** Writes `message` and resolves once the same bytes came back (or with the error code). */
function echoOnce(socket: Socket, message: Buffer): Promise<string | null> {
  return new Promise((resolve) => {
    let got = 0;
    const parts: Buffer[] = [];
    const timer = setTimeout(() => done('timed_out'), DEADLINE_MS);
    const onData = (chunk: Buffer): void => {
      parts.push(chunk);
      got += chunk.length;
      if (got >= message.length) done(Buffer.concat(parts).equals(message) ? null : 'corrupt');
    };
    const onError = (err: NodeJS.ErrnoException): void => done(err.code ?? err.message);
    const onClose = (): void => done('closed_early');
    const done = (result: string | null): void => {
      clearTimeout(timer);
      socket.off('data', onData).off('error', onError).off('close', onClose);
      resolve(result);
    };
    socket.on('data', onData).on('error', onError).on('close', onClose);
    socket.write(message);
  });
}

function openHeld(port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port, noDelay: true });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      void echoOnce(socket, HELD_MESSAGE).then((result) => {
        if (result === null) {
          held.add(socket);
          socket.on('error', () => socket.destroy());
          socket.once('close', () => held.delete(socket));
        } else {
          socket.destroy();
        }
        resolve(result);
      });
    });
  });
}

function note(tally: TransferTally, error: string | null): void {
  if (error === null) {
    tally.intact++;
    tally.bytes += HELD_MESSAGE.length;
  } else if (error === 'corrupt') {
    tally.corrupt++;
  } else {
    tally.errors[error] = (tally.errors[error] ?? 0) + 1;
  }
}

async function hold(request: Extract<SoakRequest, { type: 'hold' }>): Promise<void> {
  const tally = emptyTally();
  let started = 0;
  let done = 0;
  const progress = setInterval(() => send({ type: 'progress', open: held.size, done }), PROGRESS_MS);
  const lane = async (): Promise<void> => {
    while (started < request.count) {
      started++;
      note(tally, await openHeld(request.port));
      done++;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, request.concurrency) }, lane));
  clearInterval(progress);
  send({ type: 'held', open: held.size, tally });
}

/** One more echo on every held connection (they all still relay), then a clean end of each. */
async function release(): Promise<void> {
  const tally = emptyTally();
  const sockets = [...held];
  const ended: Promise<void>[] = [];
  for (let i = 0; i < sockets.length; i += 500) {
    const batch = sockets.slice(i, i + 500);
    const results = await Promise.all(batch.map((socket) => echoOnce(socket, HELD_MESSAGE)));
    results.forEach((result, j) => {
      note(tally, result);
      const socket = batch[j]!;
      ended.push(new Promise((closed) => socket.once('close', () => closed())));
      socket.end();
    });
  }
  await Promise.all(ended);
  send({ type: 'released', tally });
}

async function churn(request: Extract<SoakRequest, { type: 'churn' }>): Promise<void> {
  let done = 0;
  const progress = setInterval(() => send({ type: 'progress', open: 0, done }), PROGRESS_MS);
  const tally = await runTransfers({
    port: () => request.port,
    total: request.total,
    concurrency: request.concurrency,
    sampleEvery: request.sampleEvery,
    deadlineMs: DEADLINE_MS,
    pool,
    onDone: () => done++,
  });
  clearInterval(progress);
  send({ type: 'churned', tally });
}

/** Each flow: its own socket, numbered datagrams paced a few at a time, echoes counted. */
async function udp(request: Extract<SoakRequest, { type: 'udp' }>): Promise<void> {
  const sockets: UdpSocket[] = [];
  const received = new Array<number>(request.flows).fill(0);
  let sent = 0;
  for (let flow = 0; flow < request.flows; flow++) {
    const socket = createSocket('udp4');
    socket.on('message', () => received[flow]!++);
    socket.on('error', () => {});
    await new Promise<void>((bound) => socket.bind(0, '127.0.0.1', () => bound()));
    sockets.push(socket);
  }
  const datagram = Buffer.alloc(512, 0x33);
  for (let n = 0; n < request.datagrams; n++) {
    for (let flow = 0; flow < sockets.length; flow++) {
      sockets[flow]!.send(datagram, request.port, '127.0.0.1');
      sent++;
      // A pause every 64 datagrams keeps each burst inside the receive buffers of the client's
      // sockets and of the one echo socket all flows share, which would drop what the edge
      // relayed (that loss would be the rig's, not the edge's).
      if (sent % 64 === 0) await new Promise((next) => setTimeout(next, 2));
    }
    await new Promise((next) => setTimeout(next, 20));
  }
  // Echoes still in flight arrive within this.
  await new Promise((settled) => setTimeout(settled, 1000));
  for (const socket of sockets) socket.close();
  const total = received.reduce((sum, n) => sum + n, 0);
  send({
    type: 'udp-done',
    flows: request.flows,
    sent,
    received: total,
    silentFlows: received.filter((n) => n === 0).length,
  });
}

process.on('message', (message: unknown) => {
  if (!isSoakRequest(message)) return;
  switch (message.type) {
    case 'hold':
      void hold(message);
      return;
    case 'release':
      void release();
      return;
    case 'churn':
      void churn(message);
      return;
    case 'udp':
      void udp(message);
      return;
  }
});
process.on('disconnect', () => process.exit(0));
