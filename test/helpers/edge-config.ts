// Standalone edge configs (TOML, DESIGN.md) built from a typed description, so a test names only
// what it cares about. Bad configs are written as raw TOML by the tests that need them.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RuleConfig {
  readonly name: string;
  readonly listenPort: number;
  /** Target ports on 127.0.0.1, in order. */
  readonly targetPorts: readonly number[];
  readonly balance?: 'failover' | 'round-robin';
  readonly connectTimeoutMs?: number;
  readonly halfCloseTimeoutSecs?: number;
}

export interface EdgeConfig {
  readonly name?: string;
  readonly shards?: number;
  readonly metricsPort: number;
  readonly drainTimeoutSecs?: number;
  readonly rules: readonly RuleConfig[];
}

/** The `client` label every test edge carries unless told otherwise. */
export const EDGE_NAME = 'e2e-edge';

const str = (value: string): string => JSON.stringify(value);

export function renderConfig(config: EdgeConfig): string {
  const lines = [
    `name = ${str(config.name ?? EDGE_NAME)}`,
    `shards = ${config.shards ?? 2}`,
    `metrics = ${str(`127.0.0.1:${config.metricsPort}`)}`,
  ];
  if (config.drainTimeoutSecs !== undefined) lines.push(`drain_timeout_secs = ${config.drainTimeoutSecs}`);
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
  }
  return `${lines.join('\n')}\n`;
}

/** Writes `config` (or raw TOML) to `dir/file` and returns the absolute path. */
export function writeConfig(dir: string, config: EdgeConfig | string, file = 'edge.toml'): string {
  const path = join(dir, file);
  writeFileSync(path, typeof config === 'string' ? config : renderConfig(config));
  return path;
}
