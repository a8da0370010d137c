// Free loopback ports for edges, targets, servers and metrics listeners. A port is found by
// binding it and letting go: it is free "a moment ago", and the allocator keeps it from being
// handed to anyone else before the test binds it.
//
// - The ports come from 10000..19999, below the kernel's ephemeral range (32768 and up): a port
//   handed out here is never the one a later bind(0) or outgoing connection takes, in this
//   process or in another test's. (freePortBlock draws from 20000 and up, and bench:control's
//   rule ports start at 20000.)
// - Each vitest worker (VITEST_POOL_ID) draws from a slice of its own, so two test files running
//   at once never draw the same port.
// - Within a slice a cursor walks on, so a port handed out a moment ago and not yet bound is not
//   handed out again until the slice wraps.
// - Ports that fetch (and so the tests' API client and the console's browser) refuses to reach
//   are passed over: 10080 once failed an enrollment in CI with "fetch failed: bad port".

import { createSocket } from 'node:dgram';
import { type AddressInfo, createServer, type Server } from 'node:net';

function listenOn(port: number, host: string): Promise<Server | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(null));
    server.listen({ host, port, exclusive: true }, () => resolve(server));
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

const RANGE_LOW = 10_000;
const RANGE_HIGH = 20_000;
const SLICES = 8;
const SLICE_SIZE = Math.floor((RANGE_HIGH - RANGE_LOW) / SLICES);

/** The WHATWG fetch "bad ports" at or above RANGE_LOW; the rest of that list lies below it. */
const FETCH_BLOCKED = new Set([10080]);

/** The ports of the slice that starts at `start`, in walking order, less those fetch refuses. */
export function slicePorts(start: number): number[] {
  const ports: number[] = [];
  for (let port = start; port < start + SLICE_SIZE; port++) if (!FETCH_BLOCKED.has(port)) ports.push(port);
  return ports;
}

/** This process's slice: its vitest worker's, or (outside vitest) one picked by its pid. */
function sliceStart(): number {
  const pool = Number(process.env.VITEST_POOL_ID);
  const index = Number.isInteger(pool) && pool >= 1 ? (pool - 1) % SLICES : process.pid % SLICES;
  return RANGE_LOW + index * SLICE_SIZE;
}

const slice = slicePorts(sliceStart());

/** Where the walk through the slice is; starts at a random place so reruns differ. */
let cursor = Math.floor(Math.random() * slice.length);

/** The next port of the slice that binds, bound. */
async function nextPort(host: string): Promise<Server> {
  for (let tries = 0; tries < slice.length; tries++) {
    cursor = (cursor + 1) % slice.length;
    const server = await listenOn(slice[cursor]!, host);
    if (server !== null) return server;
  }
  throw new Error(`no free port in ${slice[0]}..${slice.at(-1)} on ${host}`);
}

/** `count` distinct free TCP ports: every probe stays bound until all are known, so none repeats. */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) servers.push(await nextPort(host));
    return servers.map((server) => (server.address() as AddressInfo).port);
  } finally {
    await Promise.all(servers.map(closeServer));
  }
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  const [port] = await freePorts(1, host);
  return port!;
}

function bindUdp(port: number, host: string): Promise<{ close(): void } | null> {
  return new Promise((resolve) => {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    socket.once('error', () => resolve(null));
    socket.bind({ address: host, port, exclusive: true }, () => resolve(socket));
  });
}

/** The first of `count` consecutive ports free for TCP and UDP on `host`, found by binding them all. */
export async function freePortBlock(count: number, host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const held: { close(): void }[] = [];
    let ok = true;
    for (let port = base; port < base + count && ok; port++) {
      const tcp = await listenOn(port, host);
      const udp = tcp === null ? null : await bindUdp(port, host);
      for (const socket of [tcp, udp]) if (socket !== null) held.push(socket);
      ok = tcp !== null && udp !== null;
    }
    for (const socket of held) socket.close();
    if (ok) return base;
  }
  throw new Error(`no block of ${count} free ports on ${host}`);
}
