// Test support: the rule `web` (listen 127.0.0.1:8080, target 127.0.0.1:80) as config reads it
// when every optional key is left out. The schema's and the file loader's tests both hold the
// defaults to this one copy.

import type { LimitsSpec, RuleSpec } from './types.ts';

export const NO_LIMITS: LimitsSpec = {
  bandwidthIn: null,
  bandwidthOut: null,
  newConnectionsPerSec: null,
  newConnectionsBurst: null,
  maxConnections: null,
};

export const WEB_RULE_DEFAULTS: RuleSpec = {
  name: 'web',
  listen: { host: '127.0.0.1', portLo: 8080, portHi: 8080 },
  targets: [{ host: '127.0.0.1', portLo: 80, portHi: 80 }],
  protocol: 'tcp',
  balance: 'failover',
  connectTimeoutMs: 3000,
  halfCloseTimeoutMs: 60_000,
  idleTimeoutMs: 60_000,
  maxFlows: 1024,
  udpReceiveBufferBytes: 4 * 1024 ** 2,
  proxyProtocol: 'off',
  acceptProxy: false,
  owner: 'default',
  limits: NO_LIMITS,
  sni: null,
  preferIpv6: false,
  healthCheckIntervalMs: null,
};
