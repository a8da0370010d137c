export {
  API_ERRORS,
  type ApiErrorBody,
  type ApiErrorCode,
  apiErrorBody,
  apiErrorBodySchema,
} from './api-errors.ts';
export {
  type AuditEntry,
  type AuditList,
  type AuditQuery,
  auditEntrySchema,
  auditListSchema,
  auditQuerySchema,
} from './audit.ts';
export { parseDuration } from './duration.ts';
export { edgeNameSchema } from './edge-name.ts';
export {
  type Edge,
  type EdgeList,
  type EdgeParams,
  type EdgeRef,
  edgeListSchema,
  edgeParamsSchema,
  edgeRefSchema,
  edgeSchema,
  type RenameEdgeBody,
  renameEdgeBodySchema,
} from './edges.ts';
export {
  DEFAULT_ENROLLMENT_TTL,
  type Enrollment,
  type EnrollmentBody,
  enrollmentBodySchema,
  enrollmentSchema,
} from './enrollments.ts';
// Tenancy: grants.
export {
  GRANT_PROTOCOLS,
  type Grant,
  type GrantBody,
  type GrantList,
  type GrantParams,
  grantBodySchema,
  grantListSchema,
  grantParamsSchema,
  grantSchema,
  type ListGrantsQuery,
  listGrantsQuerySchema,
  type RevokedGrant,
  revokedGrantSchema,
} from './grants.ts';
export { openApiDocument, openApiPath } from './openapi.ts';
// Tenancy: owner caps per edge.
export {
  type OwnerLimits,
  type OwnerLimitsBody,
  type OwnerLimitsParams,
  ownerLimitsBodySchema,
  ownerLimitsParamsSchema,
  ownerLimitsSchema,
} from './owner-limits.ts';
export {
  parseByteSize,
  type Quota,
  type QuotaBody,
  type QuotaList,
  type QuotaParams,
  quotaBodySchema,
  quotaListSchema,
  quotaParamsSchema,
  quotaSchema,
} from './quotas.ts';
export {
  API_ROUTES,
  type ApiRoute,
  type Health,
  type HttpMethod,
  healthSchema,
  type RouteAccess,
  type RouteResponse,
} from './routes.ts';
export {
  type RuleStats,
  ruleStatsSchema,
  type StatsStreamQuery,
  statsStreamQuerySchema,
} from './rule-stats.ts';
export {
  type ListRulesQuery,
  listRulesQuerySchema,
  type PushRuleBody,
  pushRuleBodySchema,
  RULE_STATES,
  type Rule,
  type RuleList,
  type RuleParams,
  type RuleState,
  type RuleTable,
  ruleListSchema,
  ruleParamsSchema,
  ruleSchema,
  ruleStateSchema,
  ruleTableSchema,
  type UpdateRuleBody,
  updateRuleBodySchema,
} from './rules.ts';
export type {
  AckMessage,
  EdgeMessageOf,
  EnrolledMessage,
  EnrollMessage,
  HelloMessage,
  PushMessage,
  RefusedMessage,
  ServerMessageOf,
  StatsMessage,
  WelcomeMessage,
} from './session-messages.ts';
export { isoTime, isoTimeOrNull, timestampSchema } from './timestamps.ts';
// Tenancy: traffic history.
export {
  TRAFFIC_BUCKETS,
  TRAFFIC_DEFAULT_SPAN_MS,
  TRAFFIC_MAX_BUCKETS,
  TRAFFIC_SCOPES,
  type Traffic,
  type TrafficBucket,
  type TrafficQuery,
  type TrafficSample,
  trafficQuerySchema,
  trafficSampleSchema,
  trafficSchema,
} from './traffic.ts';
export {
  type ApiToken,
  type ApiTokenList,
  apiTokenListSchema,
  apiTokenSchema,
  type ChangePasswordBody,
  type CreatedToken,
  type CreateTokenBody,
  type CreateUserBody,
  CSRF_HEADER,
  changePasswordBodySchema,
  createdTokenSchema,
  createTokenBodySchema,
  createUserBodySchema,
  type DeletedUser,
  deletedUserSchema,
  type LoginBody,
  loginBodySchema,
  PASSWORD_MIN_LENGTH,
  passwordSchema,
  type ResetPasswordBody,
  resetPasswordBodySchema,
  SESSION_COOKIE,
  type TokenParams,
  tokenParamsSchema,
  type UpdateUserBody,
  type User,
  type UserList,
  type UserParams,
  updateUserBodySchema,
  userListSchema,
  userNameSchema,
  userParamsSchema,
  userSchema,
} from './users.ts';
