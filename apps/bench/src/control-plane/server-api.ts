// The few calls of sluice-server's operator API (docs/server-api.md) the control-plane bench
// makes, typed by @sluice/api, over node:http with keep-alive connections (as curl or an
// operator's script would hold one). Not fetch: undici's per-request objects, streams and
// timers cost the bench 1-2 ms of its own per request at p50 and several at p99 (its garbage
// collections land inside the timed requests), which the push latency then charged to sluice.

import { Agent, request as httpRequest } from 'node:http';
import type { Edge, EdgeList, Enrollment, Rule, RuleList, RuleStats } from '@sluice/api';

export interface ApiResponse<T = unknown> {
  readonly status: number;
  readonly body: T;
  readonly text: string;
}

/** A request that has not answered in this long fails (the server's own budgets are shorter). */
const REQUEST_TIMEOUT_MS = 30_000;

export class ServerApi {
  readonly baseUrl: string;
  readonly #token: string;
  readonly #agent = new Agent({ keepAlive: true });

  constructor(baseUrl: string, token: string) {
    this.baseUrl = baseUrl;
    this.#token = token;
  }

  request<T = unknown>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.#token}` };
    const payload = body === undefined ? undefined : JSON.stringify(body);
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        `${this.baseUrl}${path}`,
        { method, headers, agent: this.#agent, timeout: REQUEST_TIMEOUT_MS },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            if ((response.headers['content-type'] ?? '').includes('application/json') && text !== '') {
              parsed = JSON.parse(text);
            }
            resolve({ status: response.statusCode ?? 0, body: parsed as T, text });
          });
        },
      );
      req.on('timeout', () =>
        req.destroy(new Error(`${method} ${path}: no answer in ${REQUEST_TIMEOUT_MS} ms`)),
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  async #ok<T>(method: string, path: string, status: number, body?: unknown): Promise<T> {
    const response = await this.request<T>(method, path, body);
    if (response.status !== status) {
      throw new Error(`${method} ${path}: ${response.status} ${response.text.slice(0, 500)}`);
    }
    return response.body;
  }

  enroll(edge: string): Promise<Enrollment> {
    return this.#ok<Enrollment>('POST', '/v1/enrollments', 201, { edge });
  }

  edge(name: string): Promise<Edge> {
    return this.#ok<Edge>('GET', `/v1/edges/${encodeURIComponent(name)}`, 200);
  }

  async edges(): Promise<Edge[]> {
    return (await this.#ok<EdgeList>('GET', '/v1/edges', 200)).edges;
  }

  async rules(edge?: string): Promise<Rule[]> {
    const query = edge === undefined ? '' : `?edge=${encodeURIComponent(edge)}`;
    return (await this.#ok<RuleList>('GET', `/v1/rules${query}`, 200)).rules;
  }

  ruleStats(id: string): Promise<RuleStats> {
    return this.#ok<RuleStats>('GET', `/v1/rules/${encodeURIComponent(id)}/stats`, 200);
  }

  /** POST /v1/rules, whatever it answers (201 once the edge acked it active). */
  pushRule(edge: string, rule: Record<string, unknown>): Promise<ApiResponse<Rule>> {
    return this.request<Rule>('POST', '/v1/rules', { edge, rule });
  }
}

/** A TCP rule in the standalone config's keys: listen on loopback `port`, target the discard port. */
export function benchRule(name: string, port: number): Record<string, unknown> {
  return { name, listen: `127.0.0.1:${port}`, targets: ['127.0.0.1:9'] };
}
