// The credential bundle an enrolled edge keeps (mode 0600): where the server is, the pin, and
// the edge's id and secret. `sluice-edge --bundle FILE` runs managed from it.
//
// Version 2 lists every replica's control address (`servers`); version 1 named one (`server`).
// A version 1 file enrolled before replicas existed still reads, as a list of one, so an upgrade
// never asks for a new enrollment; what is written is always version 2.

import { z } from 'zod';
import { controlAddressListSchema, controlAddressSchema } from './control-address.ts';

const credentials = {
  pin: z.string().regex(/^[0-9a-f]{64}$/),
  edgeId: z.string().min(1).max(64),
  name: z.string(),
  secret: z.string().min(1),
};

const bundleV2Schema = z
  .object({ version: z.literal(2), servers: controlAddressListSchema, ...credentials })
  .strict();
const bundleV1Schema = z
  .object({ version: z.literal(1), server: controlAddressSchema, ...credentials })
  .strict();

export type Bundle = z.infer<typeof bundleV2Schema>;

/** Reads either version; the result is always version 2. */
export const bundleSchema = z
  .discriminatedUnion('version', [bundleV2Schema, bundleV1Schema])
  .transform((bundle): Bundle => {
    if (bundle.version === 2) return bundle;
    const { version: _, server, ...rest } = bundle;
    return { version: 2, servers: [server], ...rest };
  });
