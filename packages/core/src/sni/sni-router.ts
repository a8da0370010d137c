// Picks the target for a server name: the exact name first, then a wildcard covering exactly
// one label ("*.example.org" matches "a.example.org", not "a.b.example.org" nor
// "example.org"). No match (null): the caller uses the rule's targets, or closes and counts a miss.

import type { SniRoute, TargetSpec } from '@sluice/config';

export class SniRouter {
  private readonly exact = new Map<string, TargetSpec>();
  /** Keyed by the part after "*.". */
  private readonly wildcard = new Map<string, TargetSpec>();

  constructor(routes: readonly SniRoute[]) {
    for (const route of routes) {
      if (route.name.startsWith('*.')) this.wildcard.set(route.name.slice(2), route.target);
      else this.exact.set(route.name, route.target);
    }
  }

  /** The route's target for `serverName` (already lower-cased), or null when none matches. */
  route(serverName: string | null): TargetSpec | null {
    if (serverName === null) return null;
    const exact = this.exact.get(serverName);
    if (exact !== undefined) return exact;
    const dot = serverName.indexOf('.');
    if (dot <= 0) return null;
    return this.wildcard.get(serverName.slice(dot + 1)) ?? null;
  }
}
