// The credential bundle an enrolled edge keeps (mode 0600): where the server is, the pin, and
// the edge's id and secret. `sluice-edge --bundle FILE` runs managed from it.

import { z } from 'zod';

export const bundleSchema = z
  .object({
    version: z.literal(1),
    server: z.object({ host: z.string().min(1), port: z.int().min(1).max(65535) }).strict(),
    pin: z.string().regex(/^[0-9a-f]{64}$/),
    edgeId: z.string().min(1).max(64),
    name: z.string(),
    secret: z.string().min(1),
  })
  .strict();
export type Bundle = z.infer<typeof bundleSchema>;
