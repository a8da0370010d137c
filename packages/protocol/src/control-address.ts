// Where an edge reaches a server's control listener: one address per server replica. Enrollment
// URIs, bundles and welcome carry a list of them, tried in order; the same rules bound the list
// wherever it comes from.

import { isIP } from 'node:net';
import { z } from 'zod';

export interface ControlAddress {
  readonly host: string;
  readonly port: number;
}

/** More replicas than this is a misconfiguration, not a deployment. */
export const MAX_CONTROL_ADDRESSES = 16;

/** `host:port`, an IPv6 host in brackets, as a URI and the logs write it. */
export function formatControlAddress(address: ControlAddress): string {
  return `${isIP(address.host) === 6 ? `[${address.host}]` : address.host}:${address.port}`;
}

/** The same address: host names compare case-insensitively, as DNS does. */
export function sameControlAddress(a: ControlAddress, b: ControlAddress): boolean {
  return a.port === b.port && a.host.toLowerCase() === b.host.toLowerCase();
}

export const controlAddressSchema = z
  .object({ host: z.string().min(1), port: z.int().min(1).max(65535) })
  .strict();

export const controlAddressListSchema = z
  .array(controlAddressSchema)
  .min(1)
  .max(MAX_CONTROL_ADDRESSES)
  .superRefine((list, context) => {
    list.forEach((address, i) => {
      if (list.findIndex((other) => sameControlAddress(other, address)) < i)
        context.addIssue({
          code: 'custom',
          path: [i],
          message: `${formatControlAddress(address)} is listed twice`,
        });
    });
  });
