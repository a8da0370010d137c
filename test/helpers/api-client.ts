// The operator HTTP API of sluice-server (docs/server-api.md) through fetch: raw requests that
// answer status and parsed body (tests look at error codes), typed shortcuts for the calls the
// control-plane tests make (typed by @sluice/api), and polls on the state the API shows.

import type { ApiErrorBody, Edge, Enrollment, Rule, RuleState, RuleStats } from '@sluice/api';
import { pollUntil } from '@sluice/test-kit';

// The API's shapes are @sluice/api's; the tests name them through this helper.
export type { Edge, Enrollment, Rule, RuleState, RuleStats };

export interface ApiResponse<T = unknown> {
  readonly status: number;
  readonly body: T;
  /** The body as received, for failure messages and non-JSON answers. */
  readonly text: string;
}

export interface RequestOptions {
  /** Sent as is (for malformed JSON); otherwise `body` is JSON-encoded. */
  readonly rawBody?: string;
  readonly contentType?: string;
  /** null: no Authorization header. Default: the client's token. */
  readonly token?: string | null;
  readonly timeoutMs?: number;
}

/** A minimal TCP rule table in the standalone config's keys. */
export function tcpRule(name: string, listenPort: number, targetPort: number): Record<string, unknown> {
  return { name, listen: `127.0.0.1:${listenPort}`, targets: [`127.0.0.1:${targetPort}`] };
}

export class ApiClient {
  readonly baseUrl: string;
  readonly token: string;

  constructor(baseUrl: string, token: string) {
    this.baseUrl = baseUrl;
    this.token = token;
  }

  async request<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    options: RequestOptions = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = {};
    const token = options.token === undefined ? this.token : options.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let payload: string | undefined;
    if (options.rawBody !== undefined) payload = options.rawBody;
    else if (body !== undefined) payload = JSON.stringify(body);
    if (payload !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      ...(payload === undefined ? {} : { body: payload }),
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
    });
    const text = await response.text();
    let parsed: unknown = text;
    if ((response.headers.get('content-type') ?? '').includes('application/json') && text !== '') {
      parsed = JSON.parse(text);
    }
    return { status: response.status, body: parsed as T, text };
  }

  get<T = unknown>(path: string, options?: RequestOptions): Promise<ApiResponse<T>> {
    return this.request<T>('GET', path, undefined, options);
  }

  post<T = unknown>(path: string, body?: unknown, options?: RequestOptions): Promise<ApiResponse<T>> {
    return this.request<T>('POST', path, body, options);
  }

  /** GET that must answer 200; its body. */
  async ok<T>(path: string): Promise<T> {
    const response = await this.get<T>(path);
    if (response.status !== 200) throw new Error(`GET ${path}: ${response.status} ${response.text}`);
    return response.body;
  }

  async enroll(edge: string, ttl?: string): Promise<Enrollment> {
    const response = await this.post<Enrollment>(
      '/v1/enrollments',
      ttl === undefined ? { edge } : { edge, ttl },
    );
    if (response.status !== 201) throw new Error(`POST /v1/enrollments: ${response.status} ${response.text}`);
    return response.body;
  }

  async edges(): Promise<Edge[]> {
    return (await this.ok<{ edges: Edge[] }>('/v1/edges')).edges;
  }

  async edge(idOrName: string): Promise<Edge> {
    return this.ok<Edge>(`/v1/edges/${encodeURIComponent(idOrName)}`);
  }

  async rules(edge?: string): Promise<Rule[]> {
    const query = edge === undefined ? '' : `?edge=${encodeURIComponent(edge)}`;
    return (await this.ok<{ rules: Rule[] }>(`/v1/rules${query}`)).rules;
  }

  async rule(id: string): Promise<Rule> {
    return this.ok<Rule>(`/v1/rules/${encodeURIComponent(id)}`);
  }

  async stats(id: string): Promise<RuleStats> {
    return this.ok<RuleStats>(`/v1/rules/${encodeURIComponent(id)}/stats`);
  }

  /** POST /v1/rules, whatever it answers. */
  pushRule(edge: string, rule: Record<string, unknown>, options?: RequestOptions): Promise<ApiResponse> {
    return this.post('/v1/rules', { edge, rule }, options);
  }

  /** POST /v1/rules that must answer 201 with the rule active. */
  async pushActive(edge: string, rule: Record<string, unknown>): Promise<Rule> {
    const response = await this.pushRule(edge, rule);
    if (response.status !== 201)
      throw new Error(`POST /v1/rules to ${edge}: ${response.status} ${response.text}`);
    return response.body as Rule;
  }

  /** Waits until GET /v1/edges/EDGE says `connected` is `connected`. */
  waitConnected(edge: string, connected = true, timeoutMs = 10_000): Promise<Edge> {
    return pollUntil(
      async () => {
        const found = await this.edge(edge);
        return found.connected === connected ? found : undefined;
      },
      { timeoutMs, intervalMs: 100, what: `edge ${edge} connected=${connected} in GET /v1/edges/${edge}` },
    );
  }

  /** Waits until GET /v1/rules/ID says `state`. */
  waitRuleState(id: string, state: RuleState, timeoutMs = 10_000): Promise<Rule> {
    return pollUntil(
      async () => {
        const rule = await this.rule(id);
        return rule.state === state ? rule : undefined;
      },
      { timeoutMs, intervalMs: 100, what: `rule ${id} state ${state}` },
    );
  }
}

/** The `error` of an error body, or a failure naming what came instead. */
export function apiError(response: ApiResponse): { code: string; message: string } {
  const body = response.body as Partial<ApiErrorBody> | undefined;
  if (typeof body !== 'object' || body === null || body.error === undefined) {
    throw new Error(`expected an error body, got ${response.status} ${response.text}`);
  }
  return body.error;
}
