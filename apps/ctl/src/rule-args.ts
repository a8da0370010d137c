// `push-rule` flags to the body of `POST /v1/rules`: the rule table in the standalone config's
// keys (packages/config/src/schema.ts). Only what the command line can get wrong on its own is
// checked here (flag syntax, choices, numbers); the server validates the table with the same
// schema as a TOML file and names the key when it refuses one. Keys the operator did not give
// are left out so the server's defaults apply.

import type { PushRuleBody } from '@sluice/api';
import type { SluiceError } from '@sluice/errors';
import { ctlError } from './errors.ts';

export const PROTOCOLS = ['tcp', 'udp'] as const;
export const BALANCES = ['failover', 'round-robin'] as const;
export const PROXY_PROTOCOLS = ['v1', 'v2'] as const;

/** `[rules.limits]` keys (limitsSchema) and the kind of value each takes. */
export const LIMIT_KEYS = {
  bandwidth: 'bandwidth',
  bandwidth_in: 'bandwidth',
  bandwidth_out: 'bandwidth',
  burst: 'bandwidth',
  new_connections_per_sec: 'positive',
  new_connections_burst: 'count',
  max_connections: 'count',
} as const satisfies Record<string, 'bandwidth' | 'positive' | 'count'>;

export type LimitKey = keyof typeof LIMIT_KEYS;

export type RuleTable = {
  name: string;
  listen: string;
  targets?: string[];
  protocol?: (typeof PROTOCOLS)[number];
  balance?: (typeof BALANCES)[number];
  sni?: Record<string, string>;
  proxy_protocol?: (typeof PROXY_PROTOCOLS)[number];
  limits?: Partial<Record<LimitKey, string | number>>;
};

/** The body of `POST /v1/rules`, with the rule table as sluicectl builds it. */
export interface RuleRequest extends PushRuleBody {
  rule: RuleTable;
}

/** What commander hands the push-rule action: positionals and the options as given. */
export interface PushRuleArgs {
  readonly edge: string;
  readonly listen: string;
  readonly targets: readonly string[];
  readonly name?: string | undefined;
  readonly protocol?: string | undefined;
  readonly balance?: string | undefined;
  readonly sni?: readonly string[] | undefined;
  readonly proxyProtocol?: string | undefined;
  readonly limit?: readonly string[] | undefined;
  readonly owner?: string | undefined;
}

// The port part of `host:port`, `host:lo-hi` or `[v6]:port`.
const LISTEN_PORTS = /:(\d+(?:-\d+)?)$/;
const DECIMAL = /^\d+(?:\.\d+)?$/;
const DIGITS = /^\d+$/;

function badUsage(message: string): SluiceError {
  return ctlError('bad_usage', message);
}

function choice<T extends string>(
  flag: string,
  value: string | undefined,
  allowed: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  const found = allowed.find((candidate) => candidate === value);
  if (found === undefined) {
    throw badUsage(`${flag} ${JSON.stringify(value)} is not one of ${allowed.join(', ')}`);
  }
  return found;
}

function nonEmpty(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === '') throw badUsage(`${flag} must not be empty`);
  return value;
}

/** `KEY=VALUE` split at the first "=", both sides non-empty. */
function splitPair(flag: string, form: string, text: string): [string, string] {
  const eq = text.indexOf('=');
  const key = eq === -1 ? '' : text.slice(0, eq).trim();
  const value = eq === -1 ? '' : text.slice(eq + 1).trim();
  if (key === '' || value === '') {
    throw badUsage(`${flag} ${JSON.stringify(text)} is not ${form}`);
  }
  return [key, value];
}

/** The rule name used when --name is not given: the protocol and the listen's ports, `tcp-8080`. */
export function defaultRuleName(listen: string, protocol: string): string {
  const ports = LISTEN_PORTS.exec(listen)?.[1];
  if (ports === undefined) {
    throw badUsage(`LISTEN ${JSON.stringify(listen)} is not host:port or host:lo-hi (e.g. 0.0.0.0:8080)`);
  }
  return `${protocol}-${ports}`;
}

function isLimitKey(key: string): key is LimitKey {
  return Object.hasOwn(LIMIT_KEYS, key);
}

function limitValue(key: LimitKey, value: string): string | number {
  const kind = LIMIT_KEYS[key];
  if (kind === 'bandwidth') return value; // the server parses units, as in a TOML file
  const number = Number(value);
  if (kind === 'count') {
    if (!DIGITS.test(value) || !Number.isSafeInteger(number) || number < 1) {
      throw badUsage(`--limit ${key}=${value}: ${key} must be a whole number of at least 1`);
    }
    return number;
  }
  if (!DECIMAL.test(value) || !(number > 0) || !Number.isFinite(number)) {
    throw badUsage(`--limit ${key}=${value}: ${key} must be a number above 0`);
  }
  return number;
}

export function parseLimits(pairs: readonly string[]): RuleTable['limits'] {
  if (pairs.length === 0) return undefined;
  const limits: Partial<Record<LimitKey, string | number>> = {};
  for (const pair of pairs) {
    const [key, value] = splitPair('--limit', 'KEY=VALUE (e.g. max_connections=100)', pair);
    if (!isLimitKey(key)) {
      const snake = key.replace(/-/g, '_');
      const hint = isLimitKey(snake) ? `did you mean ${snake}? ` : '';
      throw badUsage(
        `--limit ${JSON.stringify(pair)}: unknown key ${JSON.stringify(key)}; ${hint}keys are ${Object.keys(LIMIT_KEYS).join(', ')}`,
      );
    }
    if (limits[key] !== undefined) throw badUsage(`--limit ${key} is given twice`);
    limits[key] = limitValue(key, value);
  }
  return limits;
}

export function parseSni(pairs: readonly string[]): RuleTable['sni'] {
  if (pairs.length === 0) return undefined;
  const routes: Record<string, string> = {};
  const seen = new Set<string>();
  for (const pair of pairs) {
    const [name, target] = splitPair('--sni', 'NAME=TARGET (e.g. a.example.com=10.0.0.5:443)', pair);
    // SNI names ignore case, so `A.example.com` and `a.example.com` are the same route.
    if (seen.has(name.toLowerCase())) throw badUsage(`--sni ${name} is given twice`);
    seen.add(name.toLowerCase());
    routes[name] = target;
  }
  return routes;
}

/** The `POST /v1/rules` body for `push-rule`. @throws SluiceError bad_usage naming the flag. */
export function buildRuleRequest(args: PushRuleArgs): RuleRequest {
  const protocol = choice('--protocol', args.protocol, PROTOCOLS);
  const balance = choice('--balance', args.balance, BALANCES);
  const proxyProtocol = choice('--proxy-protocol', args.proxyProtocol, PROXY_PROTOCOLS);
  const sni = parseSni(args.sni ?? []);
  const limits = parseLimits(args.limit ?? []);
  if (args.targets.length === 0 && sni === undefined) {
    throw badUsage('push-rule needs at least one TARGET, or --sni NAME=TARGET routes');
  }
  const name = nonEmpty('--name', args.name) ?? defaultRuleName(args.listen, protocol ?? 'tcp');
  const rule: RuleTable = { name, listen: args.listen };
  if (args.targets.length > 0) rule.targets = [...args.targets];
  if (protocol !== undefined) rule.protocol = protocol;
  if (balance !== undefined) rule.balance = balance;
  if (sni !== undefined) rule.sni = sni;
  if (proxyProtocol !== undefined) rule.proxy_protocol = proxyProtocol;
  if (limits !== undefined) rule.limits = limits;
  const request: RuleRequest = { edge: args.edge, rule };
  const owner = nonEmpty('--owner', args.owner);
  if (owner !== undefined) request.owner = owner;
  return request;
}
