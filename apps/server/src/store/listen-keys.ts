// A rule's listen as the store indexes it for the overlap check: protocol, first port and how
// many ports follow. Hosts are left to the check itself (rule-service.ts), which compares the
// few rules the index finds on the same ports.

import { parseListen } from '@sluice/config';

export interface ListenKeys {
  readonly protocol: string;
  readonly portLo: number;
  readonly portHi: number;
}

/** The keys of a rule table, or null when its listen is not a valid host:port (it never is stored so). */
export function listenKeysOf(body: Readonly<Record<string, unknown>>): ListenKeys | null {
  if (typeof body.listen !== 'string') return null;
  try {
    const listen = parseListen(body.listen);
    const protocol = typeof body.protocol === 'string' ? body.protocol : 'tcp';
    return { protocol, portLo: listen.portLo, portHi: listen.portHi };
  } catch (error) {
    if (error instanceof RangeError) return null;
    throw error;
  }
}
