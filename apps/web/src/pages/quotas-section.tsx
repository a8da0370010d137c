// A user's monthly quotas per edge, with a usage bar; admins set and remove them. The size is
// written as people write it (`10GiB`, `500MB`) and read with the API's own parser.

import { type Edge, parseByteSize, type Quota, quotaBodySchema } from '@sluice/api';
import { ApiError, invalidInput } from '../api/api-error.ts';
import { api, ok } from '../api/client.ts';
import { ConfirmButton } from '../components/confirm-button.tsx';
import { LoadView } from '../components/load-view.tsx';
import { Problem } from '../components/problem.tsx';
import { formatBytes, formatTime } from '../format.ts';
import { useAction } from '../use-action.ts';
import { useInterval } from '../use-interval.ts';
import { useLoad } from '../use-load.ts';

function UsageBar({ quota }: { quota: Quota }) {
  // A native meter: its value and range are what assistive tech reads, with no ARIA of ours.
  return (
    <meter
      class="quota-meter"
      aria-label={`Quota used on ${quota.edge.name}`}
      min={0}
      max={quota.monthlyBytes}
      high={quota.monthlyBytes * 0.9}
      value={quota.usedBytes}
    >
      {formatBytes(quota.usedBytes)} of {formatBytes(quota.monthlyBytes)}
    </meter>
  );
}

function SetQuota({ user, edges, onDone }: { user: string; edges: readonly Edge[]; onDone: () => void }) {
  const action = useAction();
  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const sizeText = String(form.get('size') ?? '');
    const size = parseByteSize(sizeText);
    if (size === null)
      return action.fail(
        new ApiError(
          'bad_request',
          `monthlyBytes: ${JSON.stringify(sizeText)} is not a size like 10GiB or 500MB`,
          0,
        ),
      );
    const parsed = quotaBodySchema.safeParse({ monthlyBytes: size });
    if (!parsed.success) return action.fail(invalidInput(parsed.error.issues));
    const edge = String(form.get('edge') ?? '');
    if (
      await action.run(() =>
        ok(
          api.PUT('/v1/users/{user}/quotas/{edge}', { params: { path: { user, edge } }, body: parsed.data }),
        ),
      )
    )
      onDone();
  };
  return (
    <form class="inline" onSubmit={submit} aria-label={`Set a quota for ${user}`}>
      <label>
        Edge
        <select name="edge">
          {edges.map((edge) => (
            <option key={edge.id} value={edge.id}>
              {edge.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Monthly size
        <input name="size" placeholder="10GiB" size={8} required />
      </label>
      <button type="submit" disabled={action.busy || edges.length === 0}>
        Set quota
      </button>
      <Problem error={action.error} />
    </form>
  );
}

export function QuotasSection({ user, admin }: { user: string; admin: boolean }) {
  const load = useLoad(async () => {
    const [quotas, edges] = await Promise.all([
      ok(api.GET('/v1/users/{user}/quotas', { params: { path: { user } } })),
      admin ? ok(api.GET('/v1/edges')).then((list) => list.edges) : Promise.resolve([]),
    ]);
    return { quotas: quotas.quotas, edges };
  }, [user, admin]);
  // Usage moves as the edges report; a few seconds behind is close enough for a bar.
  useInterval(load.reload, 3_000);
  return (
    <section aria-labelledby="quotas-title">
      <h2 id="quotas-title">Quotas</h2>
      {admin && <SetQuota user={user} edges={load.data?.edges ?? []} onDone={load.reload} />}
      <LoadView
        load={load}
        what="quotas"
        empty={(data) => (data.quotas.length === 0 ? 'No quotas: traffic is not capped by volume.' : null)}
      >
        {(data) => (
          <table>
            <thead>
              <tr>
                <th scope="col">Edge</th>
                <th scope="col">Used</th>
                <th scope="col">Usage</th>
                <th scope="col">Period</th>
                {admin && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {data.quotas.map((quota) => (
                <tr key={quota.edge.id} data-quota={quota.edge.name}>
                  <th scope="row">{quota.edge.name}</th>
                  <td data-testid="quota-used">
                    {formatBytes(quota.usedBytes)} of {formatBytes(quota.monthlyBytes)}
                    {quota.exhaustedAt !== null && ` (spent ${formatTime(quota.exhaustedAt)})`}
                  </td>
                  <td>
                    <UsageBar quota={quota} />
                  </td>
                  <td>
                    {formatTime(quota.periodStart)} – {formatTime(quota.periodEnd)}
                  </td>
                  {admin && (
                    <td>
                      <ConfirmButton
                        label={`Remove the quota on ${quota.edge.name}`}
                        consequence={`Remove ${quota.user.name}'s quota on ${quota.edge.name}? Their traffic there is no longer capped by volume.`}
                        action={() =>
                          ok(
                            api.DELETE('/v1/users/{user}/quotas/{edge}', {
                              params: { path: { user, edge: quota.edge.id } },
                            }),
                          )
                        }
                        onDone={load.reload}
                      />
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </LoadView>
    </section>
  );
}
