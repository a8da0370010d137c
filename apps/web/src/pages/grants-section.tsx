// A user's grants: which edges, listen ports and protocols they may forward. Admins add and
// revoke them; revoking names the rules that go with it (those no other grant covers).

import { type Edge, type Grant, grantBodySchema } from '@sluice/api';
import { invalidInput } from '../api/api-error.ts';
import { api, ok } from '../api/client.ts';
import { ConfirmButton } from '../components/confirm-button.tsx';
import { LoadView } from '../components/load-view.tsx';
import { Problem } from '../components/problem.tsx';
import { useAction } from '../use-action.ts';
import { useLoad } from '../use-load.ts';

function describeGrant(grant: Grant): string {
  const edge = grant.edge === '*' ? 'every edge' : grant.edge.name;
  const ports =
    grant.ports.from === grant.ports.to
      ? `port ${grant.ports.from}`
      : `ports ${grant.ports.from}-${grant.ports.to}`;
  return `${edge}, ${ports}, ${grant.protocols.join(' and ')}`;
}

function AddGrant({ user, edges, onDone }: { user: string; edges: readonly Edge[]; onDone: () => void }) {
  const action = useAction();
  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const parsed = grantBodySchema.safeParse({
      user,
      edge: form.get('edge'),
      ports: { from: Number(form.get('from')), to: Number(form.get('to')) },
      protocols: form.getAll('protocols'),
    });
    if (!parsed.success) return action.fail(invalidInput(parsed.error.issues));
    if (await action.run(() => ok(api.POST('/v1/grants', { body: parsed.data })))) onDone();
  };
  return (
    <form class="inline" onSubmit={submit} aria-label={`Grant ${user}`}>
      <label>
        Edge
        <select name="edge">
          <option value="*">every edge</option>
          {edges.map((edge) => (
            <option key={edge.id} value={edge.id}>
              {edge.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        Ports from
        <input name="from" inputMode="numeric" size={6} required />
      </label>
      <label>
        to
        <input name="to" inputMode="numeric" size={6} required />
      </label>
      <label class="checkbox">
        <input type="checkbox" name="protocols" value="tcp" defaultChecked /> TCP
      </label>
      <label class="checkbox">
        <input type="checkbox" name="protocols" value="udp" /> UDP
      </label>
      <button type="submit" disabled={action.busy}>
        Add grant
      </button>
      <Problem error={action.error} />
    </form>
  );
}

export function GrantsSection({ user, admin }: { user: string; admin: boolean }) {
  const load = useLoad(async () => {
    const [grants, edges] = await Promise.all([
      ok(api.GET('/v1/grants', { params: { query: user === 'me' ? {} : { user } } })),
      ok(api.GET('/v1/edges')),
    ]);
    return { grants: grants.grants, edges: edges.edges };
  }, [user]);
  return (
    <section aria-labelledby="grants-title">
      <h2 id="grants-title">Grants</h2>
      {admin && <AddGrant user={user} edges={load.data?.edges ?? []} onDone={load.reload} />}
      <LoadView
        load={load}
        what="grants"
        empty={(data) => (data.grants.length === 0 ? 'No grants: this user may forward nothing.' : null)}
      >
        {(data) => (
          <ul class="plain">
            {data.grants.map((grant) => (
              <li key={grant.id} data-testid="grant">
                {describeGrant(grant)}{' '}
                {admin && (
                  <ConfirmButton
                    label={`Revoke grant ${grant.id}`}
                    consequence={`Revoke ${grant.user.name}'s grant on ${describeGrant(grant)}? The rules that no other grant of ${grant.user.name} covers are drained and removed with it.`}
                    action={() => ok(api.DELETE('/v1/grants/{id}', { params: { path: { id: grant.id } } }))}
                    onDone={load.reload}
                  />
                )}
              </li>
            ))}
          </ul>
        )}
      </LoadView>
    </section>
  );
}
