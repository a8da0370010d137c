// The server's settings: an optional TOML file (`--config`), then flags over it. Every problem
// names the file (or flag), the key and the reason, like the edge's config errors.

import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { parseListen, validate } from '@sluice/config';
import { parse, TomlError } from 'smol-toml';
import { z } from 'zod';
import { serverError } from './errors.ts';
import { DEFAULT_TENANT_POLICY, type TenantPolicy } from './tenant-policy.ts';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

export interface ServerConfig {
  readonly control: HostPort;
  readonly api: HostPort;
  readonly metrics: HostPort;
  /** Where edges reach the control listener: the host and port written in enrollment URIs. */
  readonly advertise: HostPort;
  readonly ackTimeoutMs: number;
  readonly statsIntervalMs: number;
  /** From a control connection's TCP accept to its hello (or enroll), at most this long. */
  readonly helloTimeoutMs: number;
  /** What users (not admins) may push beyond their grants. */
  readonly tenants: TenantPolicy;
  /**
   * The store spec (store/open-store.ts): a postgres:// URL, or an SQLite file path; null: the
   * data dir's own SQLite file.
   */
  readonly store: string | null;
}

export const DEFAULTS = {
  control: '0.0.0.0:7443',
  api: '127.0.0.1:7080',
  metrics: '127.0.0.1:7081',
  ackTimeoutMs: 2000,
  statsIntervalSecs: 5,
  helloTimeoutMs: 10_000,
} as const;

/** `host:port` (IPv6 in brackets) to its parts. @throws RangeError naming the problem. */
export function parseHostPort(text: string): HostPort {
  // Port 0 asks the kernel for a free port (tests, side-by-side servers); the ready log line
  // says which one it gave. parseListen is for rule listens, where 0 makes no sense.
  if (/:0$/.test(text)) return { ...parseHostPort(`${text.slice(0, -1)}1`), port: 0 };
  const listen = parseListen(text);
  if (listen.portLo !== listen.portHi)
    throw new RangeError(`${JSON.stringify(text)} is a port range; give one port`);
  return { host: listen.host, port: listen.portLo };
}

const cidr = z.string().refine(
  (text) => {
    const [network, bits, extra] = text.split('/');
    const family = isIP(network ?? '');
    const n = Number(bits);
    return (
      extra === undefined && family !== 0 && Number.isInteger(n) && n >= 0 && n <= (family === 4 ? 32 : 128)
    );
  },
  {
    error: (issue) =>
      `${JSON.stringify(issue.input)} is not a CIDR (ADDRESS/BITS, e.g. "10.0.0.0/8" or "fd00::/8")`,
  },
);

const hostPort = z.string().transform((text, ctx): HostPort => {
  try {
    return parseHostPort(text);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message, input: text });
    return z.NEVER;
  }
});

const fileSchema = z
  .object({
    control: hostPort.optional(),
    api: hostPort.optional(),
    metrics: hostPort.optional(),
    advertise: hostPort.optional(),
    ack_timeout_ms: z.int().min(100).max(600_000).optional(),
    hello_timeout_ms: z.int().min(100).max(600_000).optional(),
    user_targets_allowed: z.array(cidr).max(1000).optional(),
    user_max_rules_per_edge: z.int().min(1).max(100_000).optional(),
    user_max_ports_per_edge: z.int().min(1).max(65_535).optional(),
    stats_interval_secs: z.number().min(0.1).max(3600).optional(),
    store: z.string().min(1).optional(),
  })
  .strict();

export interface ConfigFlags {
  readonly config?: string;
  readonly control?: string;
  readonly api?: string;
  readonly metrics?: string;
  readonly advertise?: string;
  readonly store?: string;
}

function readFile(file: string): z.output<typeof fileSchema> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw serverError('config_invalid', `${file}: cannot read the config file: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (error) {
    const where = error instanceof TomlError ? `${file}:${error.line}:${error.column}` : file;
    throw serverError(
      'config_invalid',
      `${where}: not valid TOML: ${(error as Error).message.split('\n', 1)[0]}`,
    );
  }
  const result = validate(fileSchema, raw);
  if (!result.ok) {
    throw serverError(
      'config_invalid',
      result.issues.map((issue) => `${file}: ${issue.path}: ${issue.message}`).join('\n'),
    );
  }
  return result.value;
}

function flag(name: string, text: string | undefined): HostPort | undefined {
  if (text === undefined) return undefined;
  try {
    return parseHostPort(text);
  } catch (error) {
    throw serverError('usage', `--${name}: ${(error as Error).message}`);
  }
}

function storeFlag(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  if (text.trim() === '') throw serverError('usage', '--store: empty; give a postgres:// URL or a file path');
  return text;
}

/** An enrollment URI must name a host the edge can reach; a wildcard bind is not one. */
function defaultAdvertise(control: HostPort): HostPort {
  const wildcard = control.host === '0.0.0.0' || control.host === '::';
  return { host: wildcard ? hostname() : control.host, port: control.port };
}

export function loadServerConfig(flags: ConfigFlags): ServerConfig {
  const file = flags.config === undefined ? {} : readFile(resolve(flags.config));
  const control = flag('control', flags.control) ?? file.control ?? parseHostPort(DEFAULTS.control);
  return {
    control,
    api: flag('api', flags.api) ?? file.api ?? parseHostPort(DEFAULTS.api),
    metrics: flag('metrics', flags.metrics) ?? file.metrics ?? parseHostPort(DEFAULTS.metrics),
    advertise: flag('advertise', flags.advertise) ?? file.advertise ?? defaultAdvertise(control),
    ackTimeoutMs: file.ack_timeout_ms ?? DEFAULTS.ackTimeoutMs,
    statsIntervalMs: Math.round((file.stats_interval_secs ?? DEFAULTS.statsIntervalSecs) * 1000),
    helloTimeoutMs: file.hello_timeout_ms ?? DEFAULTS.helloTimeoutMs,
    tenants: {
      targetsAllowed: file.user_targets_allowed ?? DEFAULT_TENANT_POLICY.targetsAllowed,
      maxRulesPerEdge: file.user_max_rules_per_edge ?? DEFAULT_TENANT_POLICY.maxRulesPerEdge,
      maxPortsPerEdge: file.user_max_ports_per_edge ?? DEFAULT_TENANT_POLICY.maxPortsPerEdge,
    },
    store: storeFlag(flags.store) ?? file.store ?? null,
  };
}
