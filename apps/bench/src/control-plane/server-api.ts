// The few calls of sluice-server's operator API (docs/server-api.md) the control-plane bench
// makes, through fetch (keep-alive, as an operator's script would), typed by @sluice/api.

import type { Edge, EdgeList, Enrollment, Rule, RuleList, RuleStats } from '@sluice/api';

export interface ApiResponse<T = unknown> {
  readonly status: number;
  readonly body: T;
  readonly text: string;
}

export class ServerApi {
  readonly baseUrl: string;
  readonly #token: string;

  constructor(baseUrl: string, token: string) {
    this.baseUrl = baseUrl;
    this.#token = token;
  }

  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.#token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    let parsed: unknown = text;
    if ((response.headers.get('content-type') ?? '').includes('application/json') && text !== '') {
      parsed = JSON.parse(text);
    }
    return { status: response.status, body: parsed as T, text };
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
