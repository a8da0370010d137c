// A user's API tokens: made with a name and shown once (only a hash is kept), revoked at will.

import { type CreatedToken, createTokenBodySchema } from '@sluice/api';
import { useState } from 'preact/hooks';
import { invalidInput } from '../api/api-error.ts';
import { api, ok } from '../api/client.ts';
import { ConfirmButton } from '../components/confirm-button.tsx';
import { CopyButton } from '../components/copy-button.tsx';
import { LoadView } from '../components/load-view.tsx';
import { Problem } from '../components/problem.tsx';
import { formatTime } from '../format.ts';
import { useAction } from '../use-action.ts';
import { useLoad } from '../use-load.ts';

export function TokensSection({ user }: { user: string }) {
  const load = useLoad(() => ok(api.GET('/v1/users/{user}/tokens', { params: { path: { user } } })), [user]);
  const action = useAction();
  const [made, setMade] = useState<CreatedToken | null>(null);
  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const parsed = createTokenBodySchema.safeParse({
      name: String(new FormData(form).get('name') ?? '').trim(),
    });
    if (!parsed.success) return action.fail(invalidInput(parsed.error.issues));
    await action.run(async () => {
      setMade(
        await ok(api.POST('/v1/users/{user}/tokens', { params: { path: { user } }, body: parsed.data })),
      );
      form.reset();
      load.reload();
    });
  };
  return (
    <section aria-labelledby="tokens-title">
      <h2 id="tokens-title">API tokens</h2>
      <form class="inline" onSubmit={submit} aria-label="New token">
        <label>
          Token name
          <input name="name" required />
        </label>
        <button type="submit" disabled={action.busy}>
          Make token
        </button>
      </form>
      <Problem error={action.error} />
      {made !== null && (
        <div class="enrollment connected" role="status">
          <p>Token {made.name}: copy it now, it is not shown again.</p>
          <div class="copy-row">
            <code data-testid="new-token">{made.token}</code>
            <CopyButton text={made.token} label="Copy the token" />
          </div>
        </div>
      )}
      <LoadView load={load} what="tokens" empty={(data) => (data.tokens.length === 0 ? 'No tokens.' : null)}>
        {(data) => (
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Made</th>
                <th scope="col">Last used</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {data.tokens.map((token) => (
                <tr key={token.id} data-token={token.name}>
                  <th scope="row">{token.name}</th>
                  <td>{formatTime(token.createdAt)}</td>
                  <td>{formatTime(token.lastUsedAt)}</td>
                  <td>
                    {token.revoked ? (
                      'revoked'
                    ) : (
                      <ConfirmButton
                        label={`Revoke token ${token.name}`}
                        consequence={`Revoke the token ${token.name}? Every client that uses it is refused from now on.`}
                        action={() =>
                          ok(
                            api.DELETE('/v1/users/{user}/tokens/{token}', {
                              params: { path: { user, token: token.id } },
                            }),
                          )
                        }
                        onDone={load.reload}
                      />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </LoadView>
    </section>
  );
}
