// Change one's password. After an admin reset (mustChangePassword) the console shows only this
// page: the server refuses everything else to such a session until it is done.

import { changePasswordBodySchema, type User } from '@sluice/api';
import { useState } from 'preact/hooks';
import { ApiError, asApiError } from '../api/api-error.ts';
import { api, ok } from '../api/client.ts';
import { Problem } from '../components/problem.tsx';

export function ChangePasswordPage({ user, onChanged }: { user: User; onChanged: () => void }) {
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState(false);

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    if (form.get('newPassword') !== form.get('repeat')) {
      setError(new ApiError('bad_request', 'the two new passwords differ', 0));
      return;
    }
    const parsed = changePasswordBodySchema.safeParse({
      currentPassword: form.get('currentPassword'),
      newPassword: form.get('newPassword'),
    });
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      setError(new ApiError('bad_request', `${issue.path.join('.')}: ${issue.message}`, 0));
      return;
    }
    try {
      // A wrong current password answers 401 too, which is not the session ending.
      await ok(api.PUT('/v1/users/me/password', { body: parsed.data }), { sessionCheck: false });
      setError(null);
      setDone(true);
      onChanged();
    } catch (failure) {
      setError(asApiError(failure));
    }
  };

  return (
    <section>
      <h1>Change your password</h1>
      {user.mustChangePassword && (
        <p class="notice" role="status">
          Your password was reset by an admin: choose a new one to go on.
        </p>
      )}
      <form onSubmit={submit} aria-label="Change password">
        <label>
          Current (or temporary) password
          <input name="currentPassword" type="password" autocomplete="current-password" required />
        </label>
        <label>
          New password
          <input name="newPassword" type="password" autocomplete="new-password" required />
        </label>
        <label>
          New password again
          <input name="repeat" type="password" autocomplete="new-password" required />
        </label>
        <Problem error={error} />
        {done && <p role="status">Password changed.</p>}
        <button type="submit">Change password</button>
      </form>
    </section>
  );
}
