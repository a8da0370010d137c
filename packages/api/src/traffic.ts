// GET /v1/traffic: bytes in and out over time, in 1-minute or 1-hour buckets, summed over the
// rules asked for (one rule, an edge's, a user's, or all the caller may see). The server keeps
// 1-minute buckets 7 days and 1-hour buckets 400 days.

import { z } from 'zod';
import { timestampSchema } from './timestamps.ts';

/** The bucket widths, in ms. */
export const TRAFFIC_BUCKETS = { '1m': 60_000, '1h': 3_600_000 } as const;
export type TrafficBucket = keyof typeof TRAFFIC_BUCKETS;
const BUCKET_NAMES = Object.keys(TRAFFIC_BUCKETS) as [TrafficBucket, ...TrafficBucket[]];

/** How far back `from` defaults to, per bucket: the last 24 hours of 1m, the last 30 days of 1h. */
export const TRAFFIC_DEFAULT_SPAN_MS: Readonly<Record<TrafficBucket, number>> = {
  '1m': 24 * 3_600_000,
  '1h': 30 * 24 * 3_600_000,
};

/** The most buckets one query may span; a wider range is a bad_request, not a long scan. */
export const TRAFFIC_MAX_BUCKETS = 50_000;

/** The scope parameters, of which a query gives at most one. */
export const TRAFFIC_SCOPES = ['rule', 'edge', 'user'] as const;

const timeParam = z.iso
  .datetime({ offset: true, error: 'not an ISO 8601 time, e.g. 2026-03-01T12:00:00Z' })
  .optional();

export const trafficQuerySchema = z
  .object({
    rule: z.string().min(1).optional().meta({ description: 'only this rule (an id)' }),
    edge: z.string().min(1).optional().meta({ description: "only this edge's rules (an id or name)" }),
    user: z.string().min(1).optional().meta({ description: "only this user's rules (a user name)" }),
    from: timeParam.meta({
      description:
        'the start, rounded down to a bucket start (default: 24 h before `to` for 1m, 30 days for 1h)',
    }),
    to: timeParam.meta({ description: 'the end, excluded (default: now)' }),
    bucket: z
      .enum(BUCKET_NAMES, { error: `must be one of ${BUCKET_NAMES.join(', ')}` })
      .default('1m')
      .meta({ description: 'the bucket width: 1m (kept 7 days) or 1h (kept 400 days)' }),
  })
  .strict()
  .superRefine((query, ctx) => {
    const given = TRAFFIC_SCOPES.filter((scope) => query[scope] !== undefined);
    if (given.length > 1) {
      ctx.addIssue({
        code: 'custom',
        path: [given[1]!],
        message: `give at most one of rule, edge and user (given: ${given.join(', ')})`,
      });
    }
  });
export type TrafficQuery = z.infer<typeof trafficQuerySchema>;

const bytes = z.number().min(0);

export const trafficSampleSchema = z
  .object({
    at: timestampSchema.meta({ description: 'the bucket start' }),
    bytesIn: bytes.meta({ description: 'client to target, in the bucket' }),
    bytesOut: bytes.meta({ description: 'target to client, in the bucket' }),
  })
  .meta({ id: 'TrafficSample' });
export type TrafficSample = z.infer<typeof trafficSampleSchema>;

export const trafficSchema = z
  .object({
    bucket: z.enum(BUCKET_NAMES),
    from: timestampSchema.meta({ description: 'the start, a bucket start' }),
    to: timestampSchema.meta({ description: 'the end, excluded' }),
    samples: z.array(trafficSampleSchema).meta({
      description: 'oldest first; only buckets with traffic, each summed over the matching rules',
    }),
    totals: z.object({ bytesIn: bytes, bytesOut: bytes }).meta({ description: 'the sum of the samples' }),
  })
  .meta({ id: 'Traffic' });
export type Traffic = z.infer<typeof trafficSchema>;
