// The public surface of @sluice/config: the frozen config model, its loader, and the pieces
// the control plane reuses to validate pushed rules the same way.

export {
  formatHost,
  formatHostPort,
  formatListen,
  formatTarget,
  parseListen,
  parseTarget,
  targetFitProblem,
} from './address.ts';
export { MAX_EDGE_CONNECTIONS, MAX_SHARDS } from './bounds.ts';
export { deepFreeze } from './deep-freeze.ts';
export {
  CONFIG_ERRORS,
  type ConfigError,
  type ConfigErrorCode,
  type ConfigErrorData,
  type ConfigErrorDetails,
  type ConfigIssue,
  configError,
} from './errors.ts';
export { loadStandaloneConfig, parseStandaloneConfig } from './load.ts';
export { findRuleConflicts, listensOverlap } from './rule-conflicts.ts';
export { limitsSchema, ruleSchema } from './schema.ts';
export type * from './types.ts';
export { parseBandwidth } from './units.ts';
export { formatPath, type PathIssue, type Validation, validate } from './zod-issues.ts';
