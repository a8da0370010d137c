// The console's shell: who is logged in (GET /v1/users/me), the login page when nobody is (or
// the session ended, after which login returns to the page you were on), the forced password
// change after an admin reset, and the pages by path.

import type { User } from '@sluice/api';
import { useEffect, useState } from 'preact/hooks';
import { type ApiError, asApiError } from './api/api-error.ts';
import { api, ok, whenSessionEnds } from './api/client.ts';
import { ErrorBoundary } from './components/error-boundary.tsx';
import { Problem } from './components/problem.tsx';
import { AuditPage } from './pages/audit-page.tsx';
import { ChangePasswordPage } from './pages/change-password-page.tsx';
import { EdgePage } from './pages/edge-page.tsx';
import { EdgesPage } from './pages/edges-page.tsx';
import { LoginPage } from './pages/login-page.tsx';
import { RuleFormPage } from './pages/rule-form-page.tsx';
import { RulePage } from './pages/rule-page.tsx';
import { RulesPage } from './pages/rules-page.tsx';
import { UserPage } from './pages/user-page.tsx';
import { UsersPage } from './pages/users-page.tsx';
import { match, navigate, useLocation } from './router.ts';
import { SessionContext } from './session.ts';

type Session =
  | { readonly state: 'checking' }
  | { readonly state: 'out'; readonly ended: ApiError | null }
  | { readonly state: 'failed'; readonly error: ApiError }
  | { readonly state: 'in'; readonly user: User };

const NAV: readonly { path: string; label: string; admin?: boolean }[] = [
  { path: '/edges', label: 'Edges' },
  { path: '/rules', label: 'Rules' },
  { path: '/users', label: 'Users', admin: true },
  { path: '/audit', label: 'Audit log', admin: true },
  { path: '/account', label: 'Account' },
];

function Page({ path }: { path: string }) {
  if (path === '/' || path === '/edges') return <EdgesPage />;
  if (match('/account/password', path) !== null) return <PasswordRoute />;
  const edge = match('/edges/:id', path);
  if (edge !== null) return <EdgePage key={edge.id} id={edge.id!} />;
  if (path === '/account') return <UserPage name={null} />;
  if (path === '/users') return <UsersPage />;
  if (path === '/audit') return <AuditPage />;
  const user = match('/users/:name', path);
  if (user !== null) return <UserPage key={user.name} name={user.name!} />;
  if (path === '/rules') return <RulesPage />;
  if (path === '/rules/new') return <RuleFormPage id={null} />;
  const edit = match('/rules/:id/edit', path);
  if (edit !== null) return <RuleFormPage key={edit.id} id={edit.id!} />;
  const rule = match('/rules/:id', path);
  if (rule !== null) return <RulePage key={rule.id} id={rule.id!} />;
  return (
    <section>
      <h1>Not found</h1>
      <Problem error={asApiError(new Error(`no page at ${path}`))} />
      <a href="/edges">Go to the edges</a>
    </section>
  );
}

function PasswordRoute() {
  const [user, setUser] = useState<User | null>(null);
  useEffect(() => {
    ok(api.GET('/v1/users/{user}', { params: { path: { user: 'me' } } })).then(setUser, () => {});
  }, []);
  return user === null ? (
    <p class="loading">Loading…</p>
  ) : (
    <ChangePasswordPage user={user} onChanged={() => {}} />
  );
}

export function App() {
  const [session, setSession] = useState<Session>({ state: 'checking' });
  const { path } = useLocation();

  useEffect(() => {
    whenSessionEnds((error) => setSession({ state: 'out', ended: error }));
    ok(api.GET('/v1/users/{user}', { params: { path: { user: 'me' } } }), { sessionCheck: false }).then(
      (user) => setSession({ state: 'in', user }),
      (error: unknown) => {
        const failure = asApiError(error);
        setSession(
          failure.status === 401 ? { state: 'out', ended: null } : { state: 'failed', error: failure },
        );
      },
    );
  }, []);

  // Links inside the console move with the router instead of reloading the page.
  useEffect(() => {
    const onClick = (event: MouseEvent) => {
      const link = (event.target as Element).closest('a');
      if (
        link === null ||
        link.origin !== location.origin ||
        link.target !== '' ||
        event.ctrlKey ||
        event.metaKey
      )
        return;
      event.preventDefault();
      navigate(link.pathname + link.search);
    };
    document.addEventListener('click', onClick);
    return () => document.removeEventListener('click', onClick);
  }, []);

  if (session.state === 'checking') return <p class="loading">Loading the sluice console…</p>;
  if (session.state === 'failed')
    return (
      <main>
        <h1>sluice</h1>
        <Problem error={session.error} />
      </main>
    );
  if (session.state === 'out')
    return <LoginPage ended={session.ended} onLogin={(user) => setSession({ state: 'in', user })} />;

  const { user } = session;
  const logout = async () => {
    try {
      await ok(api.POST('/v1/auth/logout'));
    } finally {
      setSession({ state: 'out', ended: null });
    }
  };

  return (
    <SessionContext.Provider value={user}>
      <header class="top">
        <a class="brand" href="/edges">
          sluice
        </a>
        <nav aria-label="Main">
          {NAV.filter((item) => item.admin !== true || user.role === 'admin').map((item) => (
            <a
              key={item.path}
              href={item.path}
              aria-current={path === item.path || path.startsWith(`${item.path}/`) ? 'page' : undefined}
            >
              {item.label}
            </a>
          ))}
        </nav>
        <span class="who" data-testid="who">
          {user.name} ({user.role})
        </span>
        <button type="button" onClick={logout}>
          Log out
        </button>
      </header>
      <main>
        {user.mustChangePassword ? (
          <ChangePasswordPage
            user={user}
            onChanged={() => setSession({ state: 'in', user: { ...user, mustChangePassword: false } })}
          />
        ) : (
          <ErrorBoundary key={path}>
            <Page path={path} />
          </ErrorBoundary>
        )}
      </main>
    </SessionContext.Provider>
  );
}
