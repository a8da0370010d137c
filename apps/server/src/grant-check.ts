// Whether a user's rule fits inside one of the user's grants, and if not, the most specific
// reason: no grant on the edge (edge), grants on the edge but none holding the listen ports
// (port), or the ports held but not for the rule's protocol (protocol). Admins are not bound.

import { ruleSchema } from '@sluice/config';
import { apiError } from './errors.ts';
import type { GrantProtocol, GrantRecord, UserRecord } from './store/records.ts';
import type { Store } from './store/store.ts';

/** The edge a denial names. */
interface EdgeName {
  readonly id: string;
  readonly name: string;
}

export type GrantDenialReason = 'edge' | 'port' | 'protocol';

/** What a grant is checked against: where the rule listens and what it carries. */
export interface GrantedUse {
  readonly edgeId: string;
  readonly portLo: number;
  readonly portHi: number;
  readonly protocol: GrantProtocol;
}

const onEdge = (grant: GrantRecord, edgeId: string): boolean =>
  grant.edgeId === null || grant.edgeId === edgeId;

const holdsPorts = (grant: GrantRecord, use: GrantedUse): boolean =>
  grant.portLo <= use.portLo && use.portHi <= grant.portHi;

/** Whether one of `grants` allows `use`. */
export function isGranted(grants: readonly GrantRecord[], use: GrantedUse): boolean {
  return grants.some(
    (grant) => onEdge(grant, use.edgeId) && holdsPorts(grant, use) && grant.protocols.includes(use.protocol),
  );
}

/** Why no grant of `grants` allows `use`, or null when one does. */
export function grantDenial(grants: readonly GrantRecord[], use: GrantedUse): GrantDenialReason | null {
  const edgeGrants = grants.filter((grant) => onEdge(grant, use.edgeId));
  if (edgeGrants.length === 0) return 'edge';
  const portGrants = edgeGrants.filter((grant) => holdsPorts(grant, use));
  if (portGrants.length === 0) return 'port';
  return portGrants.some((grant) => grant.protocols.includes(use.protocol)) ? null : 'protocol';
}

/** The listen ports and protocol of a stored (already validated) rule table on `edgeId`. */
export function useOf(edgeId: string, body: Record<string, unknown>): GrantedUse {
  const spec = ruleSchema.parse(body);
  return { edgeId, portLo: spec.listen.portLo, portHi: spec.listen.portHi, protocol: spec.protocol };
}

function phrase(reason: GrantDenialReason, user: UserRecord, edge: EdgeName, use: GrantedUse): string {
  const ports = use.portLo === use.portHi ? `port ${use.portLo}` : `ports ${use.portLo}-${use.portHi}`;
  switch (reason) {
    case 'edge':
      return `edge: ${user.name} holds no grant on edge ${edge.name}`;
    case 'port':
      return `port: no grant of ${user.name} on edge ${edge.name} holds listen ${ports}`;
    case 'protocol':
      return `protocol: the grants of ${user.name} holding ${ports} on edge ${edge.name} do not allow ${use.protocol}`;
  }
}

/** Throws not_granted unless `user` is an admin or one of its grants allows the rule `body`. */
export async function checkGranted(
  store: Store,
  user: UserRecord,
  edge: EdgeName,
  body: Record<string, unknown>,
): Promise<void> {
  if (user.role === 'admin') return;
  const use = useOf(edge.id, body);
  const reason = grantDenial(await store.grants.listByUser(user.id), use);
  if (reason !== null) throw apiError('not_granted', phrase(reason, user, edge, use));
}

/** Whether `user` may see the edge `edgeId`: an admin, or a user holding a grant on it. */
export function seesEdge(user: UserRecord, grants: readonly GrantRecord[], edgeId: string): boolean {
  return user.role === 'admin' || grants.some((grant) => onEdge(grant, edgeId));
}
