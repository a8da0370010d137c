// The rule `{ name = "web", listen = "127.0.0.1:8080", targets = ["127.0.0.1:80"] }` as config
// reads it, with every default filled: what the schema and the loader tests both expect.

import type { LimitsSpec, RuleSpec } from './types.ts';

export const NO_LIMITS: LimitsSpec = {
  bandwidthIn: null,
  bandwidthOut: null,
  newConnectionsPerSec: null,
  newConnectionsBurst: null,
  maxConnections: null,
};

export const DEFAULTED_WEB_RULE: RuleSpec = {
  name: 'web',
  listen: { host: '127.0.0.1', portLo: 8080, portHi: 8080 },
  targets: [{ host: '127.0.0.1', portLo: 80, portHi: 80 }],
  protocol: 'tcp',
  balance: 'failover',
  connectTimeoutMs: 3000,
  halfCloseTimeoutMs: 60_000,
  idleTimeoutMs: 60_000,
  maxFlows: 1024,
  proxyProtocol: 'off',
  acceptProxy: false,
  owner: 'default',
  limits: NO_LIMITS,
  sni: null,
  preferIpv6: false,
  healthCheckIntervalMs: null,
};
