// The zod schemas for the standalone TOML file. Input keys are TOML's snake_case; the output
// is the camelCase, fully defaulted model of types.ts. Every table is strict so a misspelt
// key is an error instead of a silently ignored setting.

import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { z } from 'zod';
import { dnsNameProblem, parseListen, parseTarget, targetFitProblem } from './address.ts';
import {
  DEFAULT_UDP_RECEIVE_BUFFER,
  MAX_CONNECT_TIMEOUT_MS,
  MAX_EDGE_CONNECTIONS,
  MAX_FLOWS,
  MAX_SHARDS,
  MAX_TARGETS,
  MAX_TIMEOUT_SECS,
  MAX_UDP_RECEIVE_BUFFER,
  MIN_UDP_RECEIVE_BUFFER,
} from './bounds.ts';
import type { LimitsSpec, ListenSpec, OwnerSpec, RuleSpec, StandaloneConfig, TargetSpec } from './types.ts';
import { parseBandwidth, parseSize } from './units.ts';
import { expecting, MISSING_KEY } from './zod-issues.ts';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const NAME_RULE = 'use 1-64 letters, digits, "_", "." or "-", starting with a letter or digit';
// The edge name defaults to the host name, which may be a long FQDN, so it gets DNS's limit.
const EDGE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}$/;

function badName(what: string, input: unknown): string {
  return `${JSON.stringify(input)} is not a valid ${what}; ${NAME_RULE}`;
}

function nameSchema(what: string) {
  return z.string().regex(NAME, { error: (issue) => badName(what, issue.input) });
}

/** A string turned into a value by one of this package's parsers, whose RangeErrors become issues. */
function parsedString<T>(expected: string, parse: (text: string) => T) {
  return z.string({ error: expecting(expected) }).transform((text, ctx): T => {
    try {
      return parse(text);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      ctx.addIssue({ code: 'custom', message: error.message, input: text });
      return z.NEVER;
    }
  });
}

function parseMetricsAddress(text: string): { host: string; port: number } {
  const listen = parseListen(text);
  if (listen.portLo !== listen.portHi) {
    throw new RangeError(`metrics listens on one port, not the range ${listen.portLo}-${listen.portHi}`);
  }
  return { host: listen.host, port: listen.portLo };
}

const listenSchema = parsedString('a "host:port" or "host:lo-hi" string', parseListen);
// Targets are checked against the rule's listen in checkRule, once both have parsed.
const targetSchema = parsedString('a "host:port" string', (text) => parseTarget(text));
const bandwidthSchema = parsedString('a bandwidth string such as "100Mbit" or "10MiB/s"', parseBandwidth);
const metricsSchema = parsedString('a "host:port" string', parseMetricsAddress);
const receiveBufferSchema = parsedString('a size string such as "4MiB"', (text) =>
  parseSize(text, MIN_UDP_RECEIVE_BUFFER, MAX_UDP_RECEIVE_BUFFER),
);

function noLimits(): LimitsSpec {
  return {
    bandwidthIn: null,
    bandwidthOut: null,
    newConnectionsPerSec: null,
    newConnectionsBurst: null,
    maxConnections: null,
  };
}

/** Caps for a rule or an owner; `bandwidth_in` / `bandwidth_out` override `bandwidth`. */
export const limitsSchema = z
  .object({
    bandwidth: bandwidthSchema.optional(),
    bandwidth_in: bandwidthSchema.optional(),
    bandwidth_out: bandwidthSchema.optional(),
    burst: bandwidthSchema.optional(),
    new_connections_per_sec: z.number().positive().optional(),
    new_connections_burst: z.int().min(1).optional(),
    max_connections: z.int().min(1).optional(),
  })
  .strict()
  .superRefine((limits, ctx) => {
    const anyBandwidth =
      limits.bandwidth !== undefined ||
      limits.bandwidth_in !== undefined ||
      limits.bandwidth_out !== undefined;
    if (limits.burst !== undefined && !anyBandwidth) {
      ctx.addIssue({
        code: 'custom',
        path: ['burst'],
        message: 'burst has no effect without bandwidth, bandwidth_in or bandwidth_out',
      });
    }
    if (limits.new_connections_burst !== undefined && limits.new_connections_per_sec === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['new_connections_burst'],
        message: 'new_connections_burst has no effect without new_connections_per_sec',
      });
    }
  })
  .transform((limits): LimitsSpec => {
    // `burst` is written as a rate and means one second of it; the default is one second of
    // each direction's own rate.
    const direction = (bytesPerSec: number | undefined) =>
      bytesPerSec === undefined ? null : { bytesPerSec, burstBytes: limits.burst ?? bytesPerSec };
    const rate = limits.new_connections_per_sec;
    return {
      bandwidthIn: direction(limits.bandwidth_in ?? limits.bandwidth),
      bandwidthOut: direction(limits.bandwidth_out ?? limits.bandwidth),
      newConnectionsPerSec: rate ?? null,
      // A bucket must hold at least one whole token, or a rate below 1/s would never admit.
      newConnectionsBurst:
        rate === undefined ? null : (limits.new_connections_burst ?? Math.max(1, Math.ceil(rate))),
      maxConnections: limits.max_connections ?? null,
    };
  });

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sniNameProblem(name: string): string | null {
  if (isIP(name) !== 0) return `${JSON.stringify(name)} is an IP address; SNI carries only host names`;
  if (name.endsWith('.')) return `SNI name ${JSON.stringify(name)} must not end with "."`;
  const bare = name.startsWith('*.') ? name.slice(2) : name;
  if (bare.includes('*')) {
    return `SNI name ${JSON.stringify(name)} may use "*" only as the whole first label, e.g. "*.example.org"`;
  }
  return dnsNameProblem(bare);
}

interface ParsedSniRoute {
  /** The key as written, for issue paths. */
  readonly key: string;
  readonly name: string;
  readonly target: TargetSpec;
}

const sniSchema = z
  .record(z.string(), targetSchema)
  .superRefine(
    (routes, ctx) => {
      if (!isTable(routes)) return;
      const keys = Object.keys(routes);
      if (keys.length === 0) {
        ctx.addIssue({
          code: 'custom',
          message: 'has no routes; add e.g. { "a.example.com" = "127.0.0.1:9001" } or leave sni out',
        });
      }
      const seen = new Map<string, string>();
      for (const key of keys) {
        const problem = sniNameProblem(key);
        if (problem !== null) ctx.addIssue({ code: 'custom', path: [key], message: problem });
        const name = key.toLowerCase();
        const earlier = seen.get(name);
        if (earlier === undefined) {
          seen.set(name, key);
        } else {
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `${JSON.stringify(key)} is the same SNI name as ${JSON.stringify(earlier)} (names ignore case)`,
          });
        }
      }
    },
    // Names are keys, so they can be checked even when a route's target is wrong.
    { when: () => true },
  )
  .transform((routes): ParsedSniRoute[] =>
    Object.entries(routes).map(([key, target]) => ({ key, name: key.toLowerCase(), target })),
  );

function isListenSpec(value: unknown): value is ListenSpec {
  return typeof value === 'object' && value !== null && 'portLo' in value && typeof value.portLo === 'number';
}

function isTargetSpec(value: unknown): value is TargetSpec {
  return typeof value === 'object' && value !== null && 'host' in value && typeof value.host === 'string';
}

const ruleShape = {
  name: nameSchema('rule name'),
  listen: listenSchema,
  targets: z.array(targetSchema).max(MAX_TARGETS).optional(),
  protocol: z.enum(['tcp', 'udp']).default('tcp'),
  balance: z.enum(['failover', 'round-robin']).default('failover'),
  connect_timeout_ms: z.int().min(1).max(MAX_CONNECT_TIMEOUT_MS).default(3000),
  half_close_timeout_secs: z.number().positive().max(MAX_TIMEOUT_SECS).default(60),
  idle_timeout_secs: z.number().positive().max(MAX_TIMEOUT_SECS).default(60),
  max_flows: z.int().min(1).max(MAX_FLOWS).default(1024),
  udp_receive_buffer: receiveBufferSchema.optional(),
  proxy_protocol: z.enum(['off', 'v1', 'v2']).default('off'),
  accept_proxy: z.boolean().default(false),
  owner: nameSchema('owner name').default('default'),
  prefer_ipv6: z.boolean().default(false),
  health_check_interval_secs: z.number().positive().max(MAX_TIMEOUT_SECS).optional(),
  limits: limitsSchema.optional(),
  sni: sniSchema.optional(),
};

type ParsedRule = z.output<z.ZodObject<typeof ruleShape>>;

// Checks between keys of one rule. It runs even when other keys of the rule failed (unless one
// had the wrong type), so values may be unparsed: everything is guarded before use.
function checkRule(rule: ParsedRule, ctx: z.RefinementCtx): void {
  if (!isTable(rule)) return; // the rule itself is not a table; zod has said so
  const targets: readonly unknown[] | undefined = Array.isArray(rule.targets) ? rule.targets : undefined;
  if (rule.sni === undefined) {
    if (rule.targets === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['targets'],
        message: `${MISSING_KEY} (it may be left out only when sni is given)`,
      });
    } else if (targets?.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['targets'],
        message: 'must have at least 1 entry unless sni is given',
      });
    }
  }
  if (isListenSpec(rule.listen)) {
    const listen = rule.listen;
    targets?.forEach((target, i) => {
      const problem = isTargetSpec(target) ? targetFitProblem(target, listen) : null;
      if (problem !== null) ctx.addIssue({ code: 'custom', path: ['targets', i], message: problem });
    });
    // An sni array is either the parsed routes or, when the value was wrongly an array, raw.
    const routes: readonly unknown[] = Array.isArray(rule.sni) ? rule.sni : [];
    for (const route of routes) {
      if (!isTable(route) || typeof route.key !== 'string' || !isTargetSpec(route.target)) continue;
      const problem = targetFitProblem(route.target, listen);
      if (problem !== null) ctx.addIssue({ code: 'custom', path: ['sni', route.key], message: problem });
    }
  }
  if (rule.protocol !== 'udp' && rule.udp_receive_buffer !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['udp_receive_buffer'],
      message: 'udp_receive_buffer needs protocol "udp"',
    });
  }
  if (rule.protocol === 'udp') {
    if (rule.sni !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['sni'], message: 'SNI routing needs protocol "tcp"' });
    }
    if (rule.accept_proxy === true) {
      ctx.addIssue({ code: 'custom', path: ['accept_proxy'], message: 'accept_proxy needs protocol "tcp"' });
    }
    if (rule.proxy_protocol === 'v1') {
      ctx.addIssue({
        code: 'custom',
        path: ['proxy_protocol'],
        message: 'PROXY protocol "v1" carries only TCP; use "v2" with protocol "udp"',
      });
    }
  }
}

function secondsToMs(seconds: number): number {
  return Math.max(1, Math.round(seconds * 1000));
}

function toRuleSpec(rule: ParsedRule): RuleSpec {
  return {
    name: rule.name,
    listen: rule.listen,
    targets: rule.targets ?? [],
    protocol: rule.protocol,
    balance: rule.balance,
    connectTimeoutMs: rule.connect_timeout_ms,
    halfCloseTimeoutMs: secondsToMs(rule.half_close_timeout_secs),
    idleTimeoutMs: secondsToMs(rule.idle_timeout_secs),
    maxFlows: rule.max_flows,
    udpReceiveBufferBytes: rule.udp_receive_buffer ?? DEFAULT_UDP_RECEIVE_BUFFER,
    proxyProtocol: rule.proxy_protocol,
    acceptProxy: rule.accept_proxy,
    owner: rule.owner,
    limits: rule.limits ?? noLimits(),
    sni: rule.sni?.map(({ name, target }) => ({ name, target })) ?? null,
    preferIpv6: rule.prefer_ipv6,
    healthCheckIntervalMs:
      rule.health_check_interval_secs === undefined ? null : secondsToMs(rule.health_check_interval_secs),
  };
}

/**
 * One `[[rules]]` table (TOML / JSON keys) to a RuleSpec. The control plane validates pushed
 * rules with it, so a rule means the same from a file and from the server. Checks across rules
 * (unique names, overlapping listens) are in rule-conflicts.ts.
 */
export const ruleSchema = z
  .object(ruleShape)
  .strict()
  .superRefine(checkRule, { when: () => true })
  .transform(toRuleSpec);

const ownerSchema = z
  .object({ limits: limitsSchema.optional() })
  .strict()
  .transform((owner): OwnerSpec => ({ limits: owner.limits ?? noLimits() }));

const ownersSchema = z.record(z.string(), ownerSchema).superRefine(
  (owners, ctx) => {
    if (!isTable(owners)) return;
    for (const name of Object.keys(owners)) {
      if (!NAME.test(name))
        ctx.addIssue({ code: 'custom', path: [name], message: badName('owner name', name) });
    }
  },
  { when: () => true },
);

/** The whole standalone file, less `file` (the loader adds it). */
export const standaloneConfigSchema = z
  .object({
    name: z
      .string()
      .regex(EDGE_NAME, {
        error: (issue) =>
          `${JSON.stringify(issue.input)} is not a valid edge name; use letters, digits, "_", "." or "-", starting with a letter or digit`,
      })
      .optional(),
    shards: z.int().min(1).max(MAX_SHARDS).optional(),
    metrics: metricsSchema.optional(),
    drain_timeout_secs: z.number().min(0).max(MAX_TIMEOUT_SECS).default(30),
    max_connections: z.int().min(1).max(MAX_EDGE_CONNECTIONS).optional(),
    rules: z.array(ruleSchema, {
      error: (issue) =>
        issue.code === 'invalid_type' && issue.input === undefined
          ? `${MISSING_KEY}; add [[rules]] tables, or rules = [] for none`
          : undefined,
    }),
    owners: ownersSchema.optional(),
  })
  .strict()
  .transform(
    (config): Omit<StandaloneConfig, 'file'> => ({
      name: config.name ?? hostname(),
      shards: config.shards ?? null,
      metrics: config.metrics ?? null,
      drainTimeoutSecs: config.drain_timeout_secs,
      maxConnections: config.max_connections ?? null,
      rules: config.rules,
      owners: config.owners ?? {},
    }),
  );
