// What a `user` (not an admin) may push beyond fitting its grants (grant-check.ts), because an
// edge is shared and runs with privileges its tenants do not have:
// - a listen port below 1024 only through a grant of privileged ports alone (one whose ports end
//   below 1024): a wide grant (1-65535) does not hand out the ports of ssh or telnet;
// - no target on loopback, link-local, the unspecified address or this server's own addresses
//   (the edge would carry a tenant to services that trust their host: the operator API, a cloud
//   metadata service), unless the server config allows the range;
// - at most so many live rules, and so many listen ports, per owner on one edge.
// Targets given as names are the edge's to resolve; only `localhost` names are refused here.

import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { type RuleSpec, ruleSchema } from '@sluice/config';
import { apiError } from './errors.ts';
import type { GrantRecord, UserRecord } from './store/records.ts';
import type { Store, StoreAggregates } from './store/store.ts';

export interface TenantPolicy {
  /** CIDRs a user's rule may target although they are loopback, link-local or this server's. */
  readonly targetsAllowed: readonly string[];
  /** Live rules one owner may hold on one edge. */
  readonly maxRulesPerEdge: number;
  /** Listen ports (a range counts each) one owner may hold on one edge. */
  readonly maxPortsPerEdge: number;
}

export const DEFAULT_TENANT_POLICY: TenantPolicy = {
  targetsAllowed: [],
  maxRulesPerEdge: 100,
  maxPortsPerEdge: 1024,
};

const PRIVILEGED_BELOW = 1024;

/** The ranges a user may not target, each with what it is called in a refusal. */
const RESERVED: readonly { readonly cidr: string; readonly what: string }[] = [
  { cidr: '127.0.0.0/8', what: 'a loopback address' },
  { cidr: '::1/128', what: 'a loopback address' },
  { cidr: '0.0.0.0/8', what: 'the unspecified address' },
  { cidr: '::/128', what: 'the unspecified address' },
  { cidr: '169.254.0.0/16', what: 'a link-local address' },
  { cidr: 'fe80::/10', what: 'a link-local address' },
];

function blockListOf(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [network, bits] = cidr.split('/');
    const family = isIP(network ?? '') === 6 ? 'ipv6' : 'ipv4';
    list.addSubnet(network!, Number(bits), family);
  }
  return list;
}

/** The IPv4 address inside an IPv4-mapped IPv6 one (`::ffff:127.0.0.1`), else the address. */
function unmapped(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped?.[1] ?? address;
}

/** Why `host` is off limits to users, or null. */
export function reservedTarget(host: string, policy: TenantPolicy): string | null {
  const name = host.toLowerCase().replace(/\.$/, '');
  if (isIP(name) === 0) {
    return name === 'localhost' || name.endsWith('.localhost') ? 'a loopback name' : null;
  }
  const address = unmapped(name);
  const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
  if (blockListOf(policy.targetsAllowed).check(address, family)) return null;
  for (const { cidr, what } of RESERVED) {
    if (blockListOf([cidr]).check(address, family)) return what;
  }
  const own = Object.values(networkInterfaces())
    .flat()
    .some((nic) => nic !== undefined && unmapped(nic.address.toLowerCase()) === address);
  return own ? "an address of this server's own" : null;
}

function portsOf(spec: RuleSpec): number {
  return spec.listen.portHi - spec.listen.portLo + 1;
}

/**
 * Throws not_granted (a privileged port, a reserved target) unless `user` is an admin or the
 * rule `body` keeps to the policy. The limits on rules and ports are checked apart, by
 * checkTenantLimits, inside the transaction that writes the rule.
 */
export async function checkTenantPolicy(
  store: Store,
  policy: TenantPolicy,
  user: UserRecord,
  edge: { readonly id: string; readonly name: string },
  body: Record<string, unknown>,
): Promise<void> {
  if (user.role === 'admin') return;
  const spec = ruleSchema.parse(body);
  if (spec.listen.portLo < PRIVILEGED_BELOW) {
    const grants = await store.grants.listByUser(user.id);
    const privileged = (grant: GrantRecord) =>
      (grant.edgeId === null || grant.edgeId === edge.id) &&
      grant.portHi < PRIVILEGED_BELOW &&
      grant.portLo <= spec.listen.portLo &&
      spec.listen.portHi <= grant.portHi;
    if (!grants.some(privileged)) {
      throw apiError(
        'not_granted',
        `port: listen port ${spec.listen.portLo} is below 1024; ${user.name} needs a grant of privileged ports alone (ports ending below 1024) on edge ${edge.name}`,
      );
    }
  }
  for (const target of spec.targets) {
    const reserved = reservedTarget(target.host, policy);
    if (reserved !== null) {
      throw apiError(
        'not_granted',
        `targets: ${target.host} is ${reserved}; a user may not target loopback, link-local or this server's own addresses (an admin may allow a range: user_targets_allowed in the server config)`,
      );
    }
  }
}

/**
 * Throws tenant_limit when `user` is not an admin and the rule `body` would take its owner past
 * the rules or listen ports a user may hold on the edge. Runs in the transaction that writes the rule, under the
 * edge's lock, so two concurrent pushes cannot both pass it. `replacing` is the id of the rule an
 * update replaces (it does not count against the limits).
 */
export async function checkTenantLimits(
  rules: StoreAggregates['rules'],
  policy: TenantPolicy,
  user: Pick<UserRecord, 'role'>,
  edge: { readonly id: string; readonly name: string },
  body: Record<string, unknown>,
  replacing?: string,
): Promise<void> {
  if (user.role === 'admin') return;
  const spec = ruleSchema.parse(body);
  const held = (await rules.list({ edgeId: edge.id, owner: spec.owner })).filter(
    (rule) => rule.state !== 'removed' && rule.id !== replacing,
  );
  if (held.length + 1 > policy.maxRulesPerEdge) {
    throw apiError(
      'tenant_limit',
      `rules: ${spec.owner} holds ${held.length} rules on edge ${edge.name}, the most a user may (user_max_rules_per_edge = ${policy.maxRulesPerEdge})`,
    );
  }
  const ports = held.reduce((sum, rule) => sum + portsOf(ruleSchema.parse(rule.body)), 0);
  if (ports + portsOf(spec) > policy.maxPortsPerEdge) {
    throw apiError(
      'tenant_limit',
      `listen: ${spec.owner} would hold ${ports + portsOf(spec)} listen ports on edge ${edge.name}, over the ${policy.maxPortsPerEdge} a user may (user_max_ports_per_edge)`,
    );
  }
}
