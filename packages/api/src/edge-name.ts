// Edge names: labels an operator picks (the metrics' `client` label). Ids are the stable
// handle; a name that looks like an id would be shadowed by it in `/v1/edges/:edge`, so such
// names are refused.

import { z } from 'zod';

const EDGE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}$/;
const EDGE_ID = /^e_[0-9a-f]{12}$/;

export const edgeNameSchema = z
  .string()
  .superRefine((name, ctx) => {
    if (!EDGE_NAME.test(name)) {
      ctx.addIssue({
        code: 'custom',
        message: `${JSON.stringify(name)} is not a valid edge name; use 1-253 letters, digits, "_", "." or "-", starting with a letter or digit`,
      });
    } else if (EDGE_ID.test(name)) {
      ctx.addIssue({
        code: 'custom',
        message: `${JSON.stringify(name)} looks like an edge id; pick another name`,
      });
    }
  })
  .meta({
    pattern: EDGE_NAME.source,
    description:
      '1-253 letters, digits, "_", "." or "-", starting with a letter or digit; not of the form e_ and 12 hex digits',
    examples: ['edge-01'],
  });
