// Standalone edge configs (TOML, DESIGN.md) built from a typed description, so a test names only
// what it cares about. Bad configs are written as raw TOML by the tests that need them.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { limitsSchema } from '@sluice/config';

/** A `limits` table (DESIGN.md "QoS"), for a rule or an owner; keys in camelCase. */
export interface LimitsConfig {
  /** e.g. "16Mbit" or "2MiB/s"; both directions unless overridden below. */
  readonly bandwidth?: string;
  readonly bandwidthIn?: string;
  readonly bandwidthOut?: string;
  /** Written as a rate: one second of it (default: one second of each direction's rate). */
  readonly burst?: string;
  readonly newConnectionsPerSec?: number;
  readonly newConnectionsBurst?: number;
  readonly maxConnections?: number;
}

export interface RuleConfig {
  readonly name: string;
  readonly listenPort: number;
  /** Target ports on 127.0.0.1, in order. */
  readonly targetPorts: readonly number[];
  readonly balance?: 'failover' | 'round-robin';
  readonly connectTimeoutMs?: number;
  readonly halfCloseTimeoutSecs?: number;
  readonly owner?: string;
  readonly limits?: LimitsConfig;
}

export interface EdgeConfig {
  readonly name?: string;
  readonly shards?: number;
  readonly metricsPort: number;
  readonly drainTimeoutSecs?: number;
  /** `max_connections`: the most TCP connections the edge holds at once. */
  readonly maxConnections?: number;
  readonly rules: readonly RuleConfig[];
  /** `[owners.NAME] limits = {...}` tables. */
  readonly owners?: Readonly<Record<string, LimitsConfig>>;
}

/** The `client` label every test edge carries unless told otherwise. */
export const EDGE_NAME = 'e2e-edge';

const str = (value: string): string => JSON.stringify(value);

/** A `[rules.limits]` key as config's schema spells it: a key renamed there fails to compile here. */
type TomlLimitKey = keyof (typeof limitsSchema)['in']['shape'];

const LIMIT_KEYS: ReadonlyArray<readonly [keyof LimitsConfig, TomlLimitKey]> = [
  ['bandwidth', 'bandwidth'],
  ['bandwidthIn', 'bandwidth_in'],
  ['bandwidthOut', 'bandwidth_out'],
  ['burst', 'burst'],
  ['newConnectionsPerSec', 'new_connections_per_sec'],
  ['newConnectionsBurst', 'new_connections_burst'],
  ['maxConnections', 'max_connections'],
];

/** `limits` as a TOML inline table, e.g. `{ bandwidth = "16Mbit", max_connections = 2 }`. */
function renderLimits(limits: LimitsConfig): string {
  const entries = LIMIT_KEYS.flatMap(([key, toml]) => {
    const value = limits[key];
    return value === undefined ? [] : [`${toml} = ${typeof value === 'string' ? str(value) : value}`];
  });
  return `{ ${entries.join(', ')} }`;
}

export function renderConfig(config: EdgeConfig): string {
  const lines = [
    `name = ${str(config.name ?? EDGE_NAME)}`,
    `shards = ${config.shards ?? 2}`,
    `metrics = ${str(`127.0.0.1:${config.metricsPort}`)}`,
  ];
  if (config.drainTimeoutSecs !== undefined) lines.push(`drain_timeout_secs = ${config.drainTimeoutSecs}`);
  if (config.maxConnections !== undefined) lines.push(`max_connections = ${config.maxConnections}`);
  for (const rule of config.rules) {
    lines.push(
      '',
      '[[rules]]',
      `name = ${str(rule.name)}`,
      `listen = ${str(`127.0.0.1:${rule.listenPort}`)}`,
      `targets = [${rule.targetPorts.map((port) => str(`127.0.0.1:${port}`)).join(', ')}]`,
    );
    if (rule.balance !== undefined) lines.push(`balance = ${str(rule.balance)}`);
    if (rule.connectTimeoutMs !== undefined) lines.push(`connect_timeout_ms = ${rule.connectTimeoutMs}`);
    if (rule.halfCloseTimeoutSecs !== undefined) {
      lines.push(`half_close_timeout_secs = ${rule.halfCloseTimeoutSecs}`);
    }
    if (rule.owner !== undefined) lines.push(`owner = ${str(rule.owner)}`);
    if (rule.limits !== undefined) lines.push(`limits = ${renderLimits(rule.limits)}`);
  }
  for (const [owner, limits] of Object.entries(config.owners ?? {})) {
    lines.push('', `[owners.${owner}]`, `limits = ${renderLimits(limits)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Writes `config` (or raw TOML) to `dir/file` and returns the absolute path. */
export function writeConfig(dir: string, config: EdgeConfig | string, file = 'edge.toml'): string {
  const path = join(dir, file);
  writeFileSync(path, typeof config === 'string' ? config : renderConfig(config));
  return path;
}
