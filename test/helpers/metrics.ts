// The edge's metrics server: /metrics (Prometheus text), /metrics?format=json, /healthz and the
// test hooks, over plain node:http with a fresh connection per request (no keep-alive), so the
// scrape itself leaves no descriptor open in the edge.

import http from 'node:http';
import { type CONNECT_ERROR_REASONS, REJECT_REASONS, type RELAY_ERROR_REASONS } from '@sluice/core';

// The reasons are the edge's own lists (@sluice/counters, through core), not copies.
export type ConnectErrorReason = (typeof CONNECT_ERROR_REASONS)[number];
export type RuleState = 'pending' | 'active' | 'failed' | 'draining';
/** Why a connection was closed at accept: the `reason` label of sluice_rule_rejected_total. */
export type RejectReason = (typeof REJECT_REASONS)[number];
export type RelayErrorReason = (typeof RELAY_ERROR_REASONS)[number];

/** A rule's whole `rejected` object when it refused only what `nonZero` says. */
export function onlyRejected(
  nonZero: Partial<Record<RejectReason, number>> = {},
): Record<RejectReason, number> {
  return Object.fromEntries(REJECT_REASONS.map((reason) => [reason, nonZero[reason] ?? 0])) as Record<
    RejectReason,
    number
  >;
}

export interface ShardCounters {
  readonly shard: number;
  readonly connections_total: number;
  readonly active_connections: number;
  readonly bytes_in: number;
  readonly bytes_out: number;
}

export interface RuleMetrics {
  readonly name: string;
  readonly owner: string;
  readonly protocol: string;
  readonly listen: string;
  readonly state: RuleState;
  readonly reason: string | null;
  readonly bytes_in: number;
  readonly bytes_out: number;
  readonly active_connections: number;
  readonly connections_total: number;
  readonly connect_errors: Partial<Record<ConnectErrorReason, number>>;
  readonly rejected: Partial<Record<RejectReason, number>>;
  /** Time the rule's flows waited for bandwidth tokens, by direction. */
  readonly throttled_seconds: { readonly in: number; readonly out: number };
  /** Relayed connections that ended in a reset, an error or the half-close idle timeout, by reason. */
  readonly relay_errors: Readonly<Record<RelayErrorReason, number>>;
  /** TCP urgent bytes the splice relay stepped over. */
  readonly urgent_bytes: number;
  /** Times a splice relay direction waited for a pipe (out of descriptors). */
  readonly pipe_waits: number;
  readonly shards: readonly ShardCounters[];
}

export interface MetricsJson {
  readonly client: string;
  /** TCP connections the edge holds now, and max_connections (0: no limit). */
  readonly connections: { readonly open: number; readonly max: number };
  readonly shards: { readonly configured: number; readonly running: number; readonly restarts: number };
  readonly rules: readonly RuleMetrics[];
}

export interface HttpResult {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

function request(port: number, method: string, path: string, timeoutMs: number): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent: false,
        headers: { connection: 'close' },
        timeout: timeoutMs,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (text: string) => {
          body += text;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export class MetricsClient {
  readonly port: number;

  constructor(port: number) {
    this.port = port;
  }

  get(path: string, timeoutMs = 5_000): Promise<HttpResult> {
    return request(this.port, 'GET', path, timeoutMs);
  }

  post(path: string, timeoutMs = 5_000): Promise<HttpResult> {
    return request(this.port, 'POST', path, timeoutMs);
  }

  async json(): Promise<MetricsJson> {
    const res = await this.get('/metrics?format=json');
    if (res.status !== 200) throw new Error(`GET /metrics?format=json: ${res.status} ${res.body}`);
    return JSON.parse(res.body) as MetricsJson;
  }

  async rule(name: string): Promise<RuleMetrics> {
    const json = await this.json();
    const rule = json.rules.find((candidate) => candidate.name === name);
    if (rule === undefined)
      throw new Error(`no rule ${name} in /metrics?format=json: ${JSON.stringify(json)}`);
    return rule;
  }

  /**
   * sluice_rule_throttled_seconds_total of a rule by direction, from the Prometheus form (the
   * JSON form has it as `throttled_seconds`).
   */
  async throttledSeconds(rule: string): Promise<{ in: number; out: number }> {
    const samples = await this.samples();
    const one = (direction: 'in' | 'out'): number => {
      const found = findSamples(samples, 'sluice_rule_throttled_seconds_total', { rule, direction });
      if (found.length !== 1) {
        throw new Error(`expected one throttled ${direction} series for ${rule}, got ${found.length}`);
      }
      return found[0]!.value;
    };
    return { in: one('in'), out: one('out') };
  }

  async text(): Promise<string> {
    const res = await this.get('/metrics');
    if (res.status !== 200) throw new Error(`GET /metrics: ${res.status} ${res.body}`);
    return res.body;
  }

  async samples(): Promise<PromSample[]> {
    return parsePrometheus(await this.text());
  }
}

function unescapeLabel(value: string): string {
  return value.replace(/\\(["\\n])/g, (_, ch: string) => (ch === 'n' ? '\n' : ch));
}

/** Parses Prometheus text exposition into samples (comments and blank lines skipped). */
export function parsePrometheus(text: string): PromSample[] {
  const samples: PromSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/.exec(line);
    if (match === null) throw new Error(`unparsable Prometheus line: ${line}`);
    const labels: Record<string, string> = {};
    const labelText = match[2] ?? '';
    for (const label of labelText.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[label[1]!] = unescapeLabel(label[2]!);
    }
    const raw = match[3]!;
    const value =
      raw === '+Inf' ? Number.POSITIVE_INFINITY : raw === '-Inf' ? Number.NEGATIVE_INFINITY : Number(raw);
    samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}

/** Samples named `name` whose labels include every label in `labels`. */
export function findSamples(
  samples: readonly PromSample[],
  name: string,
  labels: Record<string, string> = {},
): PromSample[] {
  return samples.filter(
    (sample) =>
      sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
}
