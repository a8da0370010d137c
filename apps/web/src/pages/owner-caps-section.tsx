// Admin: the caps an owner's rules share on an edge (bandwidth, connections), set per owner and
// checked in the browser by the config's own limits schema before they are sent.

import { limitsSchema } from '@sluice/config/schema';
import { validate } from '@sluice/config/zod-issues';
import { ApiError } from '../api/api-error.ts';
import { api, ok } from '../api/client.ts';
import { LoadView } from '../components/load-view.tsx';
import { Problem } from '../components/problem.tsx';
import { useAction } from '../use-action.ts';
import { useLoad } from '../use-load.ts';

const KEYS = [
  'bandwidth',
  'bandwidth_in',
  'bandwidth_out',
  'new_connections_per_sec',
  'max_connections',
] as const;
const NUMERIC = new Set<string>(['new_connections_per_sec', 'max_connections']);

function describeLimits(limits: Record<string, unknown>): string {
  const parts = Object.entries(limits).map(([key, value]) => `${key} ${String(value)}`);
  return parts.length === 0 ? 'no caps' : parts.join(', ');
}

export function OwnerCapsSection({ edge, owners }: { edge: string; owners: readonly string[] }) {
  const load = useLoad(async () => {
    const answers = await Promise.all(
      owners.map(async (owner) => {
        const answer = await api.GET('/v1/edges/{edge}/owners/{owner}/limits', {
          params: { path: { edge, owner } },
        });
        return { owner, limits: answer.response.ok ? (answer.data?.limits ?? null) : null };
      }),
    );
    return answers;
  }, [edge, owners.join(',')]);
  const action = useAction();

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const owner = String(form.get('owner') ?? '').trim();
    const limits: Record<string, unknown> = {};
    for (const key of KEYS) {
      const text = String(form.get(key) ?? '').trim();
      if (text !== '') limits[key] = NUMERIC.has(key) && Number.isFinite(Number(text)) ? Number(text) : text;
    }
    if (owner === '')
      return action.fail(new ApiError('bad_request', 'owner: give the owner (a user name)', 0));
    const checked = validate(limitsSchema, limits, ['limits']);
    if (!checked.ok) {
      return action.fail(
        new ApiError('bad_request', checked.issues.map((i) => `${i.path}: ${i.message}`).join('; '), 0),
      );
    }
    const done = await action.run(() =>
      ok(
        api.PUT('/v1/edges/{edge}/owners/{owner}/limits', {
          params: { path: { edge, owner } },
          body: { limits },
        }),
      ),
    );
    if (done) load.reload();
  };

  return (
    <section aria-labelledby="caps-title">
      <h2 id="caps-title">Owner caps</h2>
      <LoadView
        load={load}
        what="owner caps"
        empty={(data) => (data.length === 0 ? 'No owners have rules here yet.' : null)}
      >
        {(data) => (
          <ul class="plain">
            {data.map((entry) => (
              <li key={entry.owner} data-testid="owner-caps">
                {entry.owner}: {entry.limits === null ? 'no caps' : describeLimits(entry.limits)}
              </li>
            ))}
          </ul>
        )}
      </LoadView>
      <form class="inline" onSubmit={submit} aria-label="Set owner caps">
        <label>
          Owner
          <input name="owner" required />
        </label>
        {KEYS.map((key) => (
          <label key={key}>
            {key.replaceAll('_', ' ')}
            <input name={key} size={10} />
          </label>
        ))}
        <button type="submit" disabled={action.busy}>
          Set caps
        </button>
        <Problem error={action.error} />
      </form>
    </section>
  );
}
