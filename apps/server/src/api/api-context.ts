// What the API's routes share: the server's parts they use, and the per-request fields the
// hooks fill (the authenticated user, the error code a reply carries, the audit target).

import type { Logger } from 'pino';
import type { ControlServer } from '../control/control-server.ts';
import type { StatsHub } from '../control/stats-hub.ts';
import type { FailureThrottle } from '../failure-throttle.ts';
import type { ServerMetrics } from '../metrics.ts';
import type { RuleService } from '../rule-service.ts';
import type { HostPort } from '../server-config.ts';
import type { AuditChange, UserRecord } from '../store/records.ts';
import type { Store } from '../store/store.ts';
import type { TenantPolicy } from '../tenant-policy.ts';

export interface ApiContext {
  readonly store: Store;
  readonly control: ControlServer;
  readonly rules: RuleService;
  readonly statsHub: StatsHub;
  readonly metrics: ServerMetrics | null;
  readonly logger: Logger;
  /**
   * Where edges reach the control listeners (one per replica, in the order to try them), for
   * enrollment URIs; asked on every enrollment, as replicas come and go.
   */
  readonly controlAddresses: () => Promise<readonly HostPort[]>;
  /** The server certificate's SHA-256, the pin in enrollment URIs. */
  readonly fingerprint: string;
  /** Failed logins per (user, address). */
  readonly logins: FailureThrottle;
  /** What users may push beyond their grants (server config). */
  readonly tenants: TenantPolicy;
  /** The clock of the store (epoch ms): "now" in queries of history. */
  readonly now: () => number;
  /** The built web console (index.html, assets/); default: apps/web/dist of this checkout. */
  readonly webDir?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth hook on every route but the public ones. */
    user: UserRecord | null;
    /** The error code this request was answered with; null while it succeeds. */
    errorCode: string | null;
    /** What the request acted on, for the audit trail (an edge or rule id). */
    auditTarget: string | null;
    /** The web session a cookie-authenticated request came in; null for a token. */
    sessionId: string | null;
    /** What the request changed, as the API shows it, for the audit trail; set by the route. */
    auditChange: AuditChange | null;
  }
  interface FastifyContextConfig {
    /** The audit trail's name for what the route does, e.g. `rule.push`. */
    action?: string;
    /** Only an admin token may call the route. */
    admin?: boolean;
    /** No token needed (healthz). */
    public?: boolean;
    /** The web console's files: not an API route, so not in the API's route table. */
    console?: boolean;
  }
}

/** The authenticated user of a request that passed the auth hook. */
export function userOf(request: { user: UserRecord | null }): UserRecord {
  if (request.user === null) throw new Error('route without a user: the auth hook did not run');
  return request.user;
}

/** Records what a request changed: the object before and after, as the API shows it. */
export function recordChange(
  request: { auditChange: AuditChange | null },
  before: unknown,
  after: unknown,
): void {
  request.auditChange = { before: before ?? null, after: after ?? null };
}
