// Validation at the API boundary: a body or query that does not validate is a 400 bad_request
// whose message names each field (`rule.listen: ...`), phrased as the config loader phrases it.

import { validate } from '@sluice/config';
import type { z } from 'zod';
import { apiError } from '../errors.ts';

export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what = 'body'): z.output<S> {
  const result = validate(schema, input);
  if (result.ok) return result.value;
  throw apiError(
    'bad_request',
    result.issues.map((issue) => `${issue.path === '' ? what : issue.path}: ${issue.message}`).join('; '),
  );
}
