// POST /v1/enrollments: a one-time code for an edge name (new or existing), and the URI and
// command that redeem it.

import { z } from 'zod';
import { parseDuration } from './duration.ts';
import { edgeNameSchema } from './edge-name.ts';
import { edgeRefSchema } from './edges.ts';
import { timestampSchema } from './timestamps.ts';

const MIN_TTL_MS = 60_000;
const MAX_TTL_MS = 7 * 86_400_000;
export const DEFAULT_ENROLLMENT_TTL = '10m';

/** A ttl as written (`30s`, `10m`, `2h`, `7d`), parsed to milliseconds within 1m .. 7d. */
const ttlSchema = z
  .string()
  .transform((text, ctx) => {
    let ms: number;
    try {
      ms = parseDuration(text);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
    if (ms < MIN_TTL_MS || ms > MAX_TTL_MS) {
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(text)} is outside 1m .. 7d` });
      return z.NEVER;
    }
    return ms;
  })
  .meta({
    description: `how long the code is valid: a number and s, m, h or d, within 1m .. 7d (default ${DEFAULT_ENROLLMENT_TTL})`,
    examples: ['30m'],
  });

export const enrollmentBodySchema = z
  .object({ edge: edgeNameSchema, ttl: ttlSchema.optional() })
  .strict()
  .meta({ id: 'CreateEnrollment' });
/** The body as sent (ttl as text). */
export type EnrollmentBody = z.input<typeof enrollmentBodySchema>;

export const enrollmentSchema = z
  .object({
    edge: edgeRefSchema,
    code: z.string().meta({ description: 'the one-time code' }),
    uri: z.string().meta({
      description:
        "sluice://HOST:PORT[,HOST:PORT...]/enroll?pin=SHA256&code=CODE: every replica's control address, in the order an edge tries them",
    }),
    command: z.string().meta({ description: 'the command that redeems it on the edge' }),
    expiresAt: timestampSchema,
  })
  .meta({ id: 'Enrollment' });
export type Enrollment = z.infer<typeof enrollmentSchema>;
