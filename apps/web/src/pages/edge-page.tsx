// One edge: its state, its rules, and for admins the caps its owners share on it and the
// users' quotas on it.

import type { Edge, Quota, Rule } from '@sluice/api';
import { api, ok } from '../api/client.ts';
import { LoadView } from '../components/load-view.tsx';
import { formatBytes, formatTime } from '../format.ts';
import { useUser } from '../session.ts';
import { useLoad } from '../use-load.ts';
import { OwnerCapsSection } from './owner-caps-section.tsx';

interface EdgeData {
  readonly edge: Edge;
  readonly rules: readonly Rule[];
  readonly quotas: readonly Quota[];
}

async function loadEdge(id: string, admin: boolean): Promise<EdgeData> {
  const [edge, rules] = await Promise.all([
    ok(api.GET('/v1/edges/{edge}', { params: { path: { edge: id } } })),
    ok(api.GET('/v1/rules', { params: { query: { edge: id } } })),
  ]);
  let quotas: Quota[] = [];
  if (admin) {
    // Quotas are kept per user; the few users of a console are read one by one.
    const users = await ok(api.GET('/v1/users'));
    const lists = await Promise.all(
      users.users.map((user) =>
        ok(api.GET('/v1/users/{user}/quotas', { params: { path: { user: user.id } } })),
      ),
    );
    quotas = lists.flatMap((list) => list.quotas).filter((quota) => quota.edge.id === edge.id);
  } else {
    quotas = (
      await ok(api.GET('/v1/users/{user}/quotas', { params: { path: { user: 'me' } } }))
    ).quotas.filter((quota) => quota.edge.id === edge.id);
  }
  return { edge, rules: rules.rules, quotas };
}

export function EdgePage({ id }: { id: string }) {
  const user = useUser();
  const admin = user.role === 'admin';
  const load = useLoad(() => loadEdge(id, admin), [id, admin]);
  return (
    <LoadView load={load} what="the edge">
      {(data) => (
        <section>
          <h1>Edge {data.edge.name}</h1>
          <p>
            {data.edge.revoked ? 'revoked' : data.edge.connected ? 'connected' : 'not connected'}, protocol
            version {data.edge.version ?? '—'}, last seen {formatTime(data.edge.lastSeenAt)}, id{' '}
            <code>{data.edge.id}</code>
          </p>
          <h2>Rules</h2>
          {data.rules.length === 0 ? (
            <p class="empty">No rules on this edge.</p>
          ) : (
            <ul class="plain">
              {data.rules.map((rule) => (
                <li key={rule.id}>
                  <a href={`/rules/${encodeURIComponent(rule.id)}`}>{rule.name}</a> (
                  {String(rule.rule.listen ?? '')}, {rule.owner}, {rule.state})
                </li>
              ))}
            </ul>
          )}
          <a href={`/rules?edge=${encodeURIComponent(data.edge.id)}`}>All its rules in the list</a>
          {admin && (
            <OwnerCapsSection
              edge={data.edge.id}
              owners={[...new Set(data.rules.map((rule) => rule.owner))].sort()}
            />
          )}
          <h2>Quotas</h2>
          {data.quotas.length === 0 ? (
            <p class="empty">No quotas on this edge.</p>
          ) : (
            <ul class="plain">
              {data.quotas.map((quota) => (
                <li key={quota.user.id} data-testid="edge-quota">
                  {quota.user.name}: {formatBytes(quota.usedBytes)} of {formatBytes(quota.monthlyBytes)}{' '}
                  <meter
                    aria-label={`Quota of ${quota.user.name} used`}
                    min={0}
                    max={quota.monthlyBytes}
                    value={quota.usedBytes}
                  />
                </li>
              ))}
            </ul>
          )}
        </section>
      )}
    </LoadView>
  );
}
