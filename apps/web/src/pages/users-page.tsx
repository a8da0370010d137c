// Admin: every user, making one (with a password, or for tokens only), disabling or enabling,
// and setting a temporary password that must be changed at the next login.

import { createUserBodySchema, resetPasswordBodySchema, type User } from '@sluice/api';
import { useState } from 'preact/hooks';
import { invalidInput } from '../api/api-error.ts';
import { api, ok } from '../api/client.ts';
import { LoadView } from '../components/load-view.tsx';
import { Problem } from '../components/problem.tsx';
import { formatTime } from '../format.ts';
import { useAction } from '../use-action.ts';
import { useLoad } from '../use-load.ts';

function formText(event: SubmitEvent, name: string): string {
  return String(new FormData(event.currentTarget as HTMLFormElement).get(name) ?? '').trim();
}

function CreateUser({ onDone }: { onDone: () => void }) {
  const action = useAction();
  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const password = formText(event, 'password');
    const parsed = createUserBodySchema.safeParse({
      name: formText(event, 'name'),
      role: formText(event, 'role'),
      ...(password === '' ? {} : { password }),
    });
    if (!parsed.success) return action.fail(invalidInput(parsed.error.issues));
    const form = event.currentTarget as HTMLFormElement;
    if (await action.run(() => ok(api.POST('/v1/users', { body: parsed.data })))) {
      form.reset();
      onDone();
    }
  };
  return (
    <form class="inline panel" onSubmit={submit} aria-label="New user">
      <label>
        User name
        <input name="name" required />
      </label>
      <label>
        Role
        <select name="role">
          <option>user</option>
          <option>admin</option>
        </select>
      </label>
      <label>
        Password (empty: tokens only)
        <input name="password" type="password" autocomplete="new-password" />
      </label>
      <button type="submit" disabled={action.busy}>
        Make user
      </button>
      <Problem error={action.error} />
    </form>
  );
}

function UserActions({ user, onDone }: { user: User; onDone: () => void }) {
  const action = useAction();
  const [resetting, setResetting] = useState(false);
  const toggle = () =>
    action
      .run(() =>
        ok(
          api.PATCH('/v1/users/{user}', {
            params: { path: { user: user.id } },
            body: { disabled: !user.disabled },
          }),
        ),
      )
      .then((done) => done && onDone());
  const reset = async (event: SubmitEvent) => {
    event.preventDefault();
    const parsed = resetPasswordBodySchema.safeParse({ temporaryPassword: formText(event, 'temporary') });
    if (!parsed.success) return action.fail(invalidInput(parsed.error.issues));
    const done = await action.run(() =>
      ok(
        api.POST('/v1/users/{user}/password-reset', {
          params: { path: { user: user.id } },
          body: parsed.data,
        }),
      ),
    );
    if (done) {
      setResetting(false);
      onDone();
    }
  };
  return (
    <td class="actions">
      <button type="button" onClick={toggle} disabled={action.busy}>
        {user.disabled ? `Enable ${user.name}` : `Disable ${user.name}`}
      </button>
      {resetting ? (
        <form class="inline" onSubmit={reset} aria-label={`Reset the password of ${user.name}`}>
          <label>
            Temporary password
            <input name="temporary" type="password" autocomplete="new-password" required />
          </label>
          <button type="submit">Set</button>
        </form>
      ) : (
        <button type="button" onClick={() => setResetting(true)}>
          Reset password of {user.name}
        </button>
      )}
      <Problem error={action.error} />
    </td>
  );
}

export function UsersPage() {
  const load = useLoad(() => ok(api.GET('/v1/users')), []);
  return (
    <section>
      <h1>Users</h1>
      <CreateUser onDone={load.reload} />
      <LoadView load={load} what="users" empty={(data) => (data.users.length === 0 ? 'No users.' : null)}>
        {(data) => (
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">State</th>
                <th scope="col">Made</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {data.users.map((user) => (
                <tr key={user.id} data-user={user.name}>
                  <th scope="row">
                    <a href={`/users/${encodeURIComponent(user.name)}`}>{user.name}</a>
                  </th>
                  <td>{user.role}</td>
                  <td data-testid="user-state">
                    {user.disabled
                      ? 'disabled'
                      : user.mustChangePassword
                        ? 'must change password'
                        : user.hasPassword
                          ? 'active'
                          : 'tokens only'}
                  </td>
                  <td>{formatTime(user.createdAt)}</td>
                  <UserActions user={user} onDone={load.reload} />
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </LoadView>
    </section>
  );
}
