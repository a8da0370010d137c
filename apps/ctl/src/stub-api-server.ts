// A real HTTP server on 127.0.0.1 that answers like sluice-server's operator API
// (docs/server-api.md) from a small fixed world, for sluicectl's tests: three edges, one rule,
// its stats and the SSE stream. Each API error code has a request that provokes it. Paths
// under /not-api/ answer like a web server that is not sluice, and /slow/ never answers.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const ADMIN_TOKEN = 'admin-secret';
/** A `user` token of alice: she sees and changes only her own rules. */
export const USER_TOKEN = 'alice-secret';

export const NOW = '2026-03-01T12:00:00.000Z';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
  readonly accept: string | undefined;
  readonly body: unknown;
}

interface EdgeRecord {
  id: string;
  name: string;
  connected: boolean;
  revoked: boolean;
  version: string | null;
  lastSeenAt: string | null;
  enrolledAt: string | null;
}

interface RuleRecord {
  id: string;
  edge: { id: string; name: string };
  owner: string;
  name: string;
  revision: number;
  state: string;
  reason: string | null;
  message: string | null;
  rule: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

class ApiFailure extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function ruleStats(rule: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    rule,
    at: NOW,
    bytesIn: 1536,
    bytesOut: 3 * 1024 ** 2,
    connectionsTotal: 12,
    activeConnections: 2,
    rejected: 0,
    connectErrors: 1,
    bytesInPerSec: 125_000,
    bytesOutPerSec: 1_250_000,
    ...overrides,
  };
}

export class StubApiServer {
  readonly requests: RecordedRequest[] = [];
  readonly #server = createServer((request, response) => {
    this.#handle(request, response).catch((error: unknown) => {
      response.writeHead(500).end(String(error));
    });
  });
  readonly #streams = new Set<{ rule: string | null; response: ServerResponse }>();
  #streamWaiters: (() => void)[] = [];
  readonly #edges: EdgeRecord[] = [
    {
      id: 'e1',
      name: 'edge-01',
      connected: true,
      revoked: false,
      version: '0.1.0',
      lastSeenAt: NOW,
      enrolledAt: '2026-02-01T08:00:00.000Z',
    },
    {
      id: 'e2',
      name: 'edge-02',
      connected: false,
      revoked: false,
      version: '0.1.0',
      lastSeenAt: '2026-02-28T12:00:00.000Z',
      enrolledAt: '2026-02-01T08:00:00.000Z',
    },
    {
      id: 'e3',
      name: 'edge-03',
      connected: false,
      revoked: true,
      version: null,
      lastSeenAt: null,
      enrolledAt: '2026-02-01T08:00:00.000Z',
    },
  ];
  readonly #rules: RuleRecord[] = [
    {
      id: 'r1',
      edge: { id: 'e1', name: 'edge-01' },
      owner: 'alice',
      name: 'tcp-8080',
      revision: 1,
      state: 'active',
      reason: null,
      message: null,
      rule: { name: 'tcp-8080', listen: '0.0.0.0:8080', targets: ['10.0.0.5:80'], protocol: 'tcp' },
      createdAt: NOW,
      updatedAt: NOW,
    },
  ];
  #nextRule = 2;

  static async start(): Promise<StubApiServer> {
    const stub = new StubApiServer();
    await new Promise<void>((resolve) => stub.#server.listen(0, '127.0.0.1', resolve));
    return stub;
  }

  get url(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** Resolves once a stats stream is open (at once when one already is). */
  streamOpened(): Promise<void> {
    if (this.#streams.size > 0) return Promise.resolve();
    return new Promise((resolve) => this.#streamWaiters.push(resolve));
  }

  /**
   * Sends one `event: stats` to the open streams that asked for this rule, cut into two writes
   * in the middle of a line and with CRLF line ends, as a proxy might pass it on.
   */
  emitStats(stats: Record<string, unknown>): void {
    const event = `event: stats\r\ndata: ${JSON.stringify(stats)}\r\n\r\n`;
    const cut = Math.floor(event.length / 2);
    for (const stream of this.#streams) {
      if (stream.rule !== null && stream.rule !== stats.rule) continue;
      stream.response.write(event.slice(0, cut));
      stream.response.write(event.slice(cut));
    }
  }

  /** Ends every open stats stream, as a server shutting down would. */
  endStreams(): void {
    for (const stream of this.#streams) stream.response.end();
    this.#streams.clear();
  }

  async close(): Promise<void> {
    this.endStreams();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://stub');
    const text = await readBody(request);
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = text;
    }
    this.requests.push({
      method: request.method ?? '',
      path: `${url.pathname}${url.search}`,
      authorization: request.headers.authorization,
      accept: request.headers.accept,
      body,
    });
    if (url.pathname.startsWith('/slow/')) return; // never answers
    if (url.pathname.startsWith('/not-api/')) {
      response.writeHead(502, { 'content-type': 'text/html' }).end('<html><body>Bad Gateway</body></html>');
      return;
    }
    try {
      if (typeof body === 'string') throw new ApiFailure(400, 'bad_request', 'the body is not JSON');
      const user = this.#user(request);
      const reply = this.#route(request.method ?? 'GET', url, body, user, response);
      if (reply !== null) send(response, reply.status, reply.body);
    } catch (error) {
      if (!(error instanceof ApiFailure)) throw error;
      send(response, error.status, { error: { code: error.code, message: error.message } });
    }
  }

  #user(request: IncomingMessage): string {
    const header = request.headers.authorization;
    if (header === undefined)
      throw new ApiFailure(401, 'unauthorized', 'no token; send Authorization: Bearer TOKEN');
    if (header === `Bearer ${ADMIN_TOKEN}`) return 'admin';
    if (header === `Bearer ${USER_TOKEN}`) return 'alice';
    throw new ApiFailure(401, 'unauthorized', 'unknown or revoked token');
  }

  /** The answer to send, or null when the route took the response over (a stream). */
  #route(method: string, url: URL, body: unknown, user: string, response: ServerResponse): Answer | null {
    const parts = url.pathname.split('/').filter((part) => part !== '');
    const [v1, collection, id, action] = parts;
    if (v1 !== 'v1') throw notFound(url.pathname);
    if (collection === 'enrollments' && method === 'POST' && id === undefined) {
      return answer(201, this.#enroll(body, user));
    }
    if (collection === 'edges' && method === 'GET' && id === undefined) {
      return answer(200, { edges: this.#edges.map((edge) => this.#edgeBody(edge)) });
    }
    if (collection === 'edges' && method === 'POST' && id !== undefined && action === 'revoke') {
      if (user !== 'admin') throw new ApiFailure(403, 'forbidden', 'only an admin may revoke edges');
      const edge = this.#edge(id);
      edge.revoked = true;
      edge.connected = false;
      return answer(200, this.#edgeBody(edge));
    }
    if (collection === 'rules' && method === 'POST' && id === undefined) {
      return answer(201, this.#pushRule(body, user));
    }
    if (collection === 'rules' && method === 'GET' && id === undefined) {
      const edge = url.searchParams.get('edge');
      const edgeId = edge === null ? null : this.#edge(edge).id;
      const rules = this.#rules.filter(
        (rule) => (edgeId === null || rule.edge.id === edgeId) && (user === 'admin' || rule.owner === user),
      );
      return answer(200, { rules });
    }
    if (collection === 'rules' && id === 'teapot') {
      throw new ApiFailure(418, 'teapot_overflow', 'a code from a newer server');
    }
    if (collection === 'rules' && id === 'boom') throw new ApiFailure(500, 'internal', 'store exploded');
    if (collection === 'rules' && id === 'badshape' && action === 'stats') {
      return answer(200, { rule: 'badshape', bytesIn: 'lots' });
    }
    if (collection === 'rules' && id !== undefined && action === undefined && method === 'GET') {
      return answer(200, this.#rule(id, user));
    }
    if (collection === 'rules' && id !== undefined && action === undefined && method === 'DELETE') {
      const rule = this.#rule(id, user);
      this.#rules.splice(this.#rules.indexOf(rule), 1);
      return answer(200, { ...rule, state: 'removed', updatedAt: NOW });
    }
    if (collection === 'rules' && id !== undefined && action === 'stats' && method === 'GET') {
      return answer(200, ruleStats(this.#rule(id, user).id));
    }
    if (collection === 'stats' && id === 'stream' && method === 'GET') {
      const rule = url.searchParams.get('rule');
      if (rule !== null) this.#rule(rule, user);
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      response.write(': stream open\n\n');
      const stream = { rule, response };
      this.#streams.add(stream);
      response.on('close', () => this.#streams.delete(stream));
      for (const resolve of this.#streamWaiters.splice(0)) resolve();
      return null;
    }
    throw notFound(url.pathname);
  }

  #edge(nameOrId: string): EdgeRecord {
    const edge = this.#edges.find((candidate) => candidate.id === nameOrId || candidate.name === nameOrId);
    if (edge === undefined) throw new ApiFailure(404, 'not_found', `no edge ${JSON.stringify(nameOrId)}`);
    return edge;
  }

  #edgeBody(edge: EdgeRecord): Record<string, unknown> {
    return { ...edge, rules: this.#rules.filter((rule) => rule.edge.id === edge.id).length };
  }

  #rule(id: string, user: string): RuleRecord {
    const rule = this.#rules.find((candidate) => candidate.id === id);
    if (rule === undefined || (user !== 'admin' && rule.owner !== user)) {
      throw new ApiFailure(404, 'not_found', `no rule ${JSON.stringify(id)}`);
    }
    return rule;
  }

  #enroll(body: unknown, user: string): Record<string, unknown> {
    if (user !== 'admin') throw new ApiFailure(403, 'forbidden', 'only an admin may enroll edges');
    const request = isRecord(body) ? body : {};
    if (typeof request.edge !== 'string') throw new ApiFailure(400, 'bad_request', 'edge: required');
    const ttl = request.ttl ?? '10m';
    if (typeof ttl !== 'string' || !/^\d+[smh]$/.test(ttl)) {
      throw new ApiFailure(400, 'bad_request', `ttl: ${JSON.stringify(ttl)} is not a duration such as 10m`);
    }
    let edge = this.#edges.find((candidate) => candidate.name === request.edge);
    if (edge === undefined) {
      edge = {
        id: `e${this.#edges.length + 1}`,
        name: request.edge,
        connected: false,
        revoked: false,
        version: null,
        lastSeenAt: null,
        enrolledAt: null,
      };
      this.#edges.push(edge);
    }
    const uri = 'sluice://ctl.example.com:7443/enroll?pin=9f86d081884c7d65&code=K7QX-2M4P';
    return {
      edge: { id: edge.id, name: edge.name },
      code: 'K7QX-2M4P',
      uri,
      command: `sluice-edge enroll '${uri}' --bundle FILE`,
      expiresAt: '2026-03-01T12:10:00.000Z',
    };
  }

  #pushRule(body: unknown, user: string): RuleRecord {
    if (!isRecord(body) || typeof body.edge !== 'string')
      throw new ApiFailure(400, 'bad_request', 'edge: required');
    const table = body.rule;
    if (!isRecord(table) || typeof table.name !== 'string' || typeof table.listen !== 'string') {
      throw new ApiFailure(400, 'bad_request', 'rule.listen: required');
    }
    const limits = isRecord(table.limits) ? table.limits : {};
    if (
      limits.bandwidth !== undefined &&
      !/^\d+(?:\.\d+)?(?:[kmg]?bit|[KMG]iB\/s)$/i.test(String(limits.bandwidth))
    ) {
      throw new ApiFailure(
        400,
        'bad_request',
        `rule.limits.bandwidth: ${JSON.stringify(limits.bandwidth)} is not a bandwidth; use e.g. "100Mbit" or "10MiB/s"`,
      );
    }
    const owner = typeof body.owner === 'string' ? body.owner : user === 'admin' ? 'default' : user;
    if (user !== 'admin' && owner !== user) {
      throw new ApiFailure(403, 'forbidden', `${user} may not push rules for ${owner}`);
    }
    const edge = this.#edge(body.edge);
    if (edge.revoked) throw new ApiFailure(409, 'edge_revoked', `edge ${edge.name} is revoked`);
    const onEdge = this.#rules.filter((rule) => rule.edge.id === edge.id);
    const clash = onEdge.find((rule) => rule.rule.listen === table.listen);
    if (clash !== undefined) {
      throw new ApiFailure(409, 'port_in_use', `rule.listen: ${table.listen} overlaps rule ${clash.name}`);
    }
    if (onEdge.some((rule) => rule.name === table.name)) {
      throw new ApiFailure(409, 'name_taken', `rule.name: ${table.name} is already used on ${edge.name}`);
    }
    if (!edge.connected)
      throw new ApiFailure(422, 'client_not_connected', `edge ${edge.name} is not connected`);
    if (table.listen === '0.0.0.0:1') {
      throw new ApiFailure(422, 'activation_failed', 'bind_failed: bind 0.0.0.0:1: EACCES');
    }
    if (table.listen === '0.0.0.0:2') {
      throw new ApiFailure(
        504,
        'ack_timeout',
        `edge ${edge.name} did not ack within 2000 ms; the rule is pending`,
      );
    }
    const rule: RuleRecord = {
      id: `r${this.#nextRule++}`,
      edge: { id: edge.id, name: edge.name },
      owner,
      name: table.name,
      revision: 1,
      state: 'active',
      reason: null,
      message: null,
      rule: { protocol: 'tcp', balance: 'failover', ...table },
      createdAt: NOW,
      updatedAt: NOW,
    };
    this.#rules.push(rule);
    return rule;
  }
}

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

function answer(status: number, body: unknown): Answer {
  return { status, body };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function notFound(path: string): ApiFailure {
  return new ApiFailure(404, 'not_found', `no route ${path}`);
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
