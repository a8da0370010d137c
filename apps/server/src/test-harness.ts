// For tests: a real sluice-server in a temp data dir on ephemeral loopback ports, requests
// through fastify's inject or over its real API listener (`apiUrl`, for clients in other
// processes such as sluicectl), and enrolled fake edges over real TLS. Other packages import it
// as `@sluice/server/test-harness`.

import { join } from 'node:path';
import { type AckPolicy, enrollEdge, FakeEdge, removeDir, tempDir } from '@sluice/test-kit';
import { afterEach, beforeEach } from 'vitest';
import type { SessionTimings } from './control/edge-session.ts';
import type { PendingLimits } from './control/pending-connections.ts';
import { silentLogger } from './logger.ts';
import type { ServerConfig } from './server-config.ts';
import { SluiceServer } from './sluice-server.ts';
import { DEFAULT_TENANT_POLICY } from './tenant-policy.ts';

// biome-ignore lint/suspicious/noExplicitAny: tests read response bodies field by field
export type JsonBody = any;

export interface TestServer {
  readonly server: SluiceServer;
  readonly dir: string;
  readonly adminToken: string;
  readonly controlPort: number;
  /** The API listener, `http://127.0.0.1:PORT`. */
  readonly apiUrl: string;
  request(
    method: string,
    url: string,
    body?: unknown,
    token?: string | null,
  ): Promise<{ status: number; body: JsonBody }>;
  stop(): Promise<void>;
}

export { tempDir };

/** Before each test of the file, a new temp dir handed to `use`; after each, it is removed. */
export function tempDirEachTest(prefix: string, use: (dir: string) => void): void {
  let dir = '';
  beforeEach(() => {
    dir = tempDir(prefix);
    use(dir);
  });
  afterEach(() => removeDir(dir));
}

export function testConfig(overrides: Partial<ServerConfig> = {}): ServerConfig {
  const any = { host: '127.0.0.1', port: 0 };
  return {
    control: any,
    api: any,
    metrics: any,
    advertise: any,
    ackTimeoutMs: 500,
    statsIntervalMs: 1000,
    helloTimeoutMs: 10_000,
    // Every target of these tests is on loopback: users may target it here (tenant-policy.test.ts
    // tests the default, which refuses it).
    tenants: { ...DEFAULT_TENANT_POLICY, targetsAllowed: ['127.0.0.0/8', '::1/128'] },
    store: null,
    ...overrides,
  };
}

export async function startTestServer(
  options: {
    config?: Partial<ServerConfig>;
    timings?: SessionTimings;
    pendingLimits?: PendingLimits;
    dir?: string;
    now?: () => number;
  } = {},
): Promise<TestServer> {
  const dir = options.dir ?? tempDir('sluice-server-');
  const server = await SluiceServer.start({
    dataDir: join(dir, 'data'),
    config: testConfig(options.config),
    logger: silentLogger(),
    ...(options.timings === undefined ? {} : { timings: options.timings }),
    ...(options.pendingLimits === undefined ? {} : { pendingLimits: options.pendingLimits }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  const adminToken = server.adminToken ?? '';
  return {
    server,
    dir,
    adminToken,
    controlPort: server.addresses.control.port,
    apiUrl: `http://127.0.0.1:${server.addresses.api.port}`,
    async request(method, url, body, token = adminToken) {
      const headers: Record<string, string> = {};
      if (token !== null) headers.authorization = `Bearer ${token}`;
      // A string is sent as it is (malformed JSON tests); an object is serialized by inject.
      if (typeof body === 'string') headers['content-type'] = 'application/json';
      const response = await server.api.inject({
        method: method as 'GET',
        url,
        headers,
        ...(body === undefined ? {} : { payload: body as string | object }),
      });
      const text = response.body;
      return { status: response.statusCode, body: text === '' ? null : JSON.parse(text) };
    },
    async stop() {
      await server.stop();
      if (options.dir === undefined) removeDir(dir);
    },
  };
}

export interface ConnectedEdge {
  readonly edge: FakeEdge;
  readonly edgeId: string;
  readonly secret: string;
}

/** Enrolls an edge through the API and the control listener, and brings its session up. */
export async function enrollAndConnect(
  test: TestServer,
  name: string,
  ack: AckPolicy | null,
): Promise<ConnectedEdge> {
  const made = await test.request('POST', '/v1/enrollments', { edge: name });
  if (made.status !== 201) throw new Error(`enrollment failed: ${JSON.stringify(made.body)}`);
  const pin = test.server.certificate.fingerprint;
  const reply = await enrollEdge({ port: test.controlPort, pin }, made.body.code);
  if (reply.type !== 'enrolled') throw new Error(`enroll refused: ${reply.code}`);
  const edge = await connectWith(test, reply.edgeId, reply.secret, ack);
  return { edge, edgeId: reply.edgeId, secret: reply.secret };
}

/** Opens a session for an enrolled edge and waits for the welcome and the first full push. */
export async function connectWith(
  test: TestServer,
  edgeId: string,
  secret: string,
  ack: AckPolicy | null,
  bootId?: string,
): Promise<FakeEdge> {
  const edge = await FakeEdge.connect({
    port: test.controlPort,
    pin: test.server.certificate.fingerprint,
    ack,
  });
  edge.hello(edgeId, secret, bootId);
  await edge.next('welcome');
  await edge.next('push');
  // The session is registered before welcome is sent; the full push's ack may still be in flight.
  return edge;
}
