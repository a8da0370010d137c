// Every edge at a glance: connected or not, protocol version, last seen, rule count and live
// throughput (the sum of its rules' rates from the stats stream), refreshed every 2 s without
// a reload. Admins enroll, rename, revoke and delete edges here.

import type { Edge, Rule } from '@sluice/api';
import { useState } from 'preact/hooks';
import { type ApiError, asApiError } from '../api/api-error.ts';
import { api, ok } from '../api/client.ts';
import { ConfirmButton } from '../components/confirm-button.tsx';
import { LoadView } from '../components/load-view.tsx';
import { Problem } from '../components/problem.tsx';
import { formatRate, formatTime } from '../format.ts';
import { useUser } from '../session.ts';
import { useInterval } from '../use-interval.ts';
import { useLoad } from '../use-load.ts';
import { useStatsStream } from '../use-stats-stream.ts';
import { EnrollEdge } from './enroll-edge.tsx';

const REFRESH_MS = 2_000;

interface EdgesData {
  readonly edges: readonly Edge[];
}

async function loadEdges(): Promise<EdgesData> {
  return { edges: (await ok(api.GET('/v1/edges'))).edges };
}

/** How many live rules the edges report: when it changes, the rule → edge map is read again. */
function ruleCount(edges: readonly Edge[] | undefined): number {
  return (edges ?? []).reduce((sum, edge) => sum + edge.rules, 0);
}

function RenameForm({ edge, onDone }: { edge: Edge; onDone: () => void }) {
  const [error, setError] = useState<ApiError | null>(null);
  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const name = String(new FormData(event.currentTarget as HTMLFormElement).get('name') ?? '').trim();
    try {
      await ok(api.PATCH('/v1/edges/{edge}', { params: { path: { edge: edge.id } }, body: { name } }));
      onDone();
    } catch (failure) {
      setError(asApiError(failure));
    }
  };
  return (
    <form onSubmit={submit} class="inline" aria-label={`Rename ${edge.name}`}>
      <label>
        New name for {edge.name}
        <input name="name" defaultValue={edge.name} required />
      </label>
      <button type="submit">Save</button>
      <button type="button" onClick={onDone}>
        Cancel
      </button>
      <Problem error={error} />
    </form>
  );
}

export function EdgesPage() {
  const user = useUser();
  const load = useLoad(loadEdges, []);
  useInterval(load.reload, REFRESH_MS);
  // The rules only map stats to edges; with thousands of rules they are read when their number
  // changes, not with every refresh of the edges.
  const rules = useLoad(async () => (await ok(api.GET('/v1/rules'))).rules, [ruleCount(load.data?.edges)]);
  const stats = useStatsStream();
  const [renaming, setRenaming] = useState<string | null>(null);
  const admin = user.role === 'admin';

  const rateOf = (edge: Edge, rules: readonly Rule[]): { inRate: number; outRate: number } => {
    let inRate = 0;
    let outRate = 0;
    for (const rule of rules) {
      if (rule.edge.id !== edge.id) continue;
      const live = stats.byRule.get(rule.id);
      inRate += live?.bytesInPerSec ?? 0;
      outRate += live?.bytesOutPerSec ?? 0;
    }
    return { inRate, outRate };
  };

  return (
    <section>
      <h1>Edges</h1>
      {admin && <EnrollEdge edges={load.data?.edges ?? []} onEnrolled={load.reload} />}
      <LoadView
        load={load}
        what="edges"
        empty={(data) => (data.edges.length === 0 ? 'No edges yet: enroll one above.' : null)}
      >
        {(data) => (
          <table class="edges">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Status</th>
                <th scope="col">Version</th>
                <th scope="col">Last seen</th>
                <th scope="col">Rules</th>
                <th scope="col">In</th>
                <th scope="col">Out</th>
                {admin && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {data.edges.map((edge) => {
                const { inRate, outRate } = rateOf(edge, rules.data ?? []);
                return (
                  <tr key={edge.id} data-edge={edge.name}>
                    <th scope="row">
                      <a href={`/edges/${encodeURIComponent(edge.id)}`}>{edge.name}</a>
                    </th>
                    <td data-testid="edge-status">
                      {edge.revoked ? (
                        <span class="badge failed">revoked</span>
                      ) : edge.connected ? (
                        <span class="badge active">connected</span>
                      ) : (
                        <span class="badge pending">not connected</span>
                      )}
                    </td>
                    <td>{edge.version ?? '—'}</td>
                    <td>{formatTime(edge.lastSeenAt)}</td>
                    <td data-testid="edge-rules">{edge.rules}</td>
                    <td data-testid="edge-in">{formatRate(inRate)}</td>
                    <td data-testid="edge-out">{formatRate(outRate)}</td>
                    {admin && (
                      <td class="actions">
                        {renaming === edge.id ? (
                          <RenameForm
                            edge={edge}
                            onDone={() => {
                              setRenaming(null);
                              load.reload();
                            }}
                          />
                        ) : (
                          <button type="button" onClick={() => setRenaming(edge.id)}>
                            Rename
                          </button>
                        )}
                        {!edge.revoked && (
                          <ConfirmButton
                            label={`Revoke ${edge.name}`}
                            consequence={`Revoke ${edge.name}? Its session is closed and it can never connect again with its credentials; its ${edge.rules} rule(s) stay stored but are no longer pushed.`}
                            action={() =>
                              ok(api.POST('/v1/edges/{edge}/revoke', { params: { path: { edge: edge.id } } }))
                            }
                            onDone={load.reload}
                          />
                        )}
                        <ConfirmButton
                          label={`Delete ${edge.name}`}
                          consequence={`Delete ${edge.name} with its ${edge.rules} rule(s)? The rules are removed from the server for good.`}
                          action={() =>
                            ok(api.DELETE('/v1/edges/{edge}', { params: { path: { edge: edge.id } } }))
                          }
                          onDone={load.reload}
                        />
                      </td>
                    )}
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </LoadView>
    </section>
  );
}
