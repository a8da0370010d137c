// GET /v1/traffic: traffic history, per 1m or 1h bucket, summed over the rules asked for. An
// admin sees every rule; a user only the rules it owns, scoped as the other routes scope it: a
// rule of another owner is forbidden (as /v1/rules/:id), an edge it holds no grant on is not
// found (as /v1/edges/:edge), another user is forbidden (as /v1/grants?user=).

import {
  isoTime,
  TRAFFIC_BUCKETS,
  TRAFFIC_DEFAULT_SPAN_MS,
  TRAFFIC_MAX_BUCKETS,
  type Traffic,
  type TrafficQuery,
  trafficQuerySchema,
} from '@sluice/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { apiError } from '../errors.ts';
import { seesEdge } from '../grant-check.ts';
import { mayTouch } from '../rule-service.ts';
import type { UserRecord } from '../store/records.ts';
import type { TrafficFilter } from '../store/store.ts';
import { bucketStart } from '../store/traffic-buckets.ts';
import { type ApiContext, userOf } from './api-context.ts';
import { findEdgeOr404 } from './edge-routes.ts';
import { parseInput } from './parse-body.ts';

const DAY_MS = 86_400_000;

/** An ISO time of the query as epoch ms; the schema checked its form, this its calendar. */
function timeOf(name: 'from' | 'to', text: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw apiError('bad_request', `${name}: ${JSON.stringify(text)} is not a valid time`);
  return ms;
}

/** The bucket-aligned [from, to) a query asks for, with the defaults filled in and bounded. */
export function trafficRange(
  query: TrafficQuery,
  now: number,
): { widthMs: number; from: number; to: number } {
  const widthMs = TRAFFIC_BUCKETS[query.bucket];
  const to = query.to === undefined ? now : timeOf('to', query.to);
  const asked =
    query.from === undefined ? to - TRAFFIC_DEFAULT_SPAN_MS[query.bucket] : timeOf('from', query.from);
  if (asked >= to) {
    throw apiError('bad_request', `from: ${isoTime(asked)} is not before to (${isoTime(to)})`);
  }
  const from = bucketStart(asked, widthMs);
  const buckets = Math.ceil((to - from) / widthMs);
  if (buckets > TRAFFIC_MAX_BUCKETS) {
    const most = Math.floor((TRAFFIC_MAX_BUCKETS * widthMs) / DAY_MS);
    throw apiError(
      'bad_request',
      `from, to: the range spans ${buckets} buckets of ${query.bucket}, more than the ${TRAFFIC_MAX_BUCKETS} one query may (about ${most} days of ${query.bucket}); narrow from..to or use a wider bucket`,
    );
  }
  return { widthMs, from, to };
}

export function trafficRoutes(app: FastifyInstance, context: ApiContext): void {
  const { store } = context;

  /** The rule, edge or owner the query is scoped to, as far as the caller may see. */
  const scopeOf = async (
    request: FastifyRequest,
    user: UserRecord,
    query: TrafficQuery,
  ): Promise<Pick<TrafficFilter, 'ruleId' | 'edgeId' | 'owner'>> => {
    const own = user.role === 'admin' ? undefined : user.name;
    if (query.rule !== undefined) {
      const rule = await store.rules.get(query.rule);
      // A rule that is gone keeps its history under the owner it had.
      const ref = rule ?? (await store.traffic.ruleRef(query.rule));
      request.auditTarget = query.rule;
      // Another owner's rule is answered as one that does not exist.
      if (ref === null || !mayTouch(user, { owner: ref.owner })) {
        throw apiError('not_found', `rule: no rule with id ${JSON.stringify(query.rule)}`);
      }
      return { ruleId: query.rule, owner: own };
    }
    if (query.edge !== undefined) {
      const edge = await findEdgeOr404(context, query.edge, request);
      if (own !== undefined && !seesEdge(user, await store.grants.listByUser(user.id), edge.id)) {
        throw apiError('not_found', `edge: no edge with id or name ${JSON.stringify(query.edge)}`);
      }
      return { edgeId: edge.id, owner: own };
    }
    if (query.user !== undefined) {
      const named = await store.users.getByName(query.user);
      // A user sees only itself: another user is answered as one that does not exist.
      if (named === null || (own !== undefined && named.id !== user.id)) {
        throw apiError('not_found', `user: no user named ${JSON.stringify(query.user)}`);
      }
      return { owner: named.name };
    }
    return { owner: own };
  };

  app.get('/v1/traffic', async (request) => {
    const user = userOf(request);
    const query = parseInput(trafficQuerySchema, request.query, 'query');
    const range = trafficRange(query, context.now());
    const scope = await scopeOf(request, user, query);
    const samples = await store.traffic.query({ ...range, ...scope });
    const totals = { bytesIn: 0, bytesOut: 0 };
    for (const sample of samples) {
      totals.bytesIn += sample.bytesIn;
      totals.bytesOut += sample.bytesOut;
    }
    return {
      bucket: query.bucket,
      from: isoTime(range.from),
      to: isoTime(range.to),
      samples: samples.map((sample) => ({
        at: isoTime(sample.at),
        bytesIn: sample.bytesIn,
        bytesOut: sample.bytesOut,
      })),
      totals,
    } satisfies Traffic;
  });
}
