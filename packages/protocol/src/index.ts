export { type Bundle, bundleSchema } from './bundle.ts';
export {
  type ControlAddress,
  controlAddressListSchema,
  formatControlAddress,
  MAX_CONTROL_ADDRESSES,
  sameControlAddress,
} from './control-address.ts';
export { type EnrollTarget, formatEnrollUri, parseEnrollUri } from './enroll-uri.ts';
export {
  encodeFrame,
  FRAME_ERRORS,
  FrameReader,
  MAX_FRAME_BYTES,
  PRE_AUTH_MAX_FRAME_BYTES,
} from './frames.ts';
export {
  type EdgeMessage,
  edgeMessageSchema,
  type OwnerUsage,
  PROTOCOL_VERSION,
  type PushedRule,
  pushedRuleSchema,
  type QuotaBudget,
  quotaBudgetSchema,
  type RuleResult,
  type RuleStats,
  ruleResultSchema,
  ruleStatsSchema,
  type ServerMessage,
  serverMessageSchema,
} from './messages.ts';
export { checkPin, fingerprint } from './pin.ts';
