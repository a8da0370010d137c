// Log in with a user name and password. The body is checked with the server's own login schema
// before it is sent; the server's answer (a wrong password, a lockout) is shown with its code.

import { loginBodySchema, type User } from '@sluice/api';
import { useState } from 'preact/hooks';
import { type ApiError, asApiError } from '../api/api-error.ts';
import { api, ok } from '../api/client.ts';
import { Problem } from '../components/problem.tsx';

export function LoginPage({ onLogin, ended }: { onLogin: (user: User) => void; ended: ApiError | null }) {
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const parsed = loginBodySchema.safeParse({ user: form.get('user'), password: form.get('password') });
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      setError(asApiError(new Error(`${issue.path.join('.')}: ${issue.message}`)));
      return;
    }
    setBusy(true);
    try {
      onLogin(await ok(api.POST('/v1/auth/login', { body: parsed.data }), { sessionCheck: false }));
    } catch (failure) {
      setError(asApiError(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login">
      <h1>sluice</h1>
      <form onSubmit={submit} aria-label="Log in">
        {ended !== null && error === null && (
          <p class="notice" role="status">
            Your session has ended ({ended.code}); log in again to go on where you were.
          </p>
        )}
        <label>
          User name
          <input name="user" autocomplete="username" required />
        </label>
        <label>
          Password
          <input name="password" type="password" autocomplete="current-password" required />
        </label>
        <Problem error={error} />
        <button type="submit" disabled={busy}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </main>
  );
}
