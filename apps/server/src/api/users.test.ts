// Users, passwords, API tokens and web sessions through the real API (in-process server, real
// SQLite), with the clock of the store and the login throttle under the test's control.

import {
  apiTokenListSchema,
  auditListSchema,
  CSRF_HEADER,
  createdTokenSchema,
  deletedUserSchema,
  SESSION_COOKIE,
  userListSchema,
  userSchema,
} from '@sluice/api';
import { ACK_ALL_ACTIVE, type FakeEdge } from '@sluice/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConnectedEdge, enrollAndConnect, startTestServer, type TestServer } from '../test-harness.ts';

const HOUR = 3_600_000;
const PASSWORD = 'correct horse battery';

let test: TestServer;
let now = Date.parse('2026-12-01T00:00:00Z');
let connected: ConnectedEdge;
let edge: FakeEdge;

beforeAll(async () => {
  test = await startTestServer({ now: () => now });
  connected = await enrollAndConnect(test, 'edge-01', ACK_ALL_ACTIVE);
  edge = connected.edge;
});
afterAll(async () => {
  await edge.close();
  await test.stop();
});

/** A request as a browser sends it: the session cookie, and optionally Origin and the CSRF header. */
async function asBrowser(
  method: string,
  url: string,
  cookie: string,
  options: { body?: object; origin?: string | null; csrf?: boolean } = {},
) {
  const headers: Record<string, string> = { cookie: `${SESSION_COOKIE}=${cookie}` };
  const origin = options.origin === undefined ? 'http://localhost:80' : options.origin;
  if (origin !== null) headers.origin = origin;
  if (options.csrf !== false) headers[CSRF_HEADER] = '1';
  const response = await test.server.api.inject({
    method: method as 'GET',
    url,
    headers: { host: 'localhost:80', ...headers },
    ...(options.body === undefined ? {} : { payload: options.body }),
  });
  return { status: response.statusCode, body: response.body === '' ? null : JSON.parse(response.body) };
}

async function login(user: string, password: string, from = '127.0.0.1') {
  const response = await test.server.api.inject({
    method: 'POST',
    url: '/v1/auth/login',
    payload: { user, password },
    remoteAddress: from,
  });
  const setCookie = response.headers['set-cookie'];
  const cookie =
    typeof setCookie === 'string' ? (/^sluice_session=([^;]*)/.exec(setCookie)?.[1] ?? null) : null;
  return {
    status: response.statusCode,
    body: JSON.parse(response.body),
    setCookie,
    cookie,
    headers: response.headers,
  };
}

async function makeUser(name: string, password: string | null = PASSWORD, role = 'user') {
  const made = await test.request('POST', '/v1/users', {
    name,
    role,
    ...(password === null ? {} : { password }),
  });
  expect(made.status, JSON.stringify(made.body)).toBe(201);
  return userSchema.parse(made.body);
}

async function tokenFor(user: string): Promise<string> {
  const made = await test.request('POST', `/v1/users/${user}/tokens`, { name: 'test' });
  expect(made.status).toBe(201);
  return createdTokenSchema.parse(made.body).token;
}

describe('users', () => {
  it('an admin makes, lists, shows, renames, disables and enables users; a user sees only themselves', async () => {
    const dora = await makeUser('dora');
    expect(dora).toMatchObject({
      name: 'dora',
      displayName: 'dora',
      role: 'user',
      disabled: false,
      hasPassword: true,
      mustChangePassword: false,
    });
    const list = userListSchema.parse((await test.request('GET', '/v1/users')).body);
    expect(list.users.map((u) => u.name)).toContain('dora');
    const token = await tokenFor('dora');
    expect((await test.request('GET', '/v1/users/me', undefined, token)).body).toMatchObject({ id: dora.id });
    expect((await test.request('GET', '/v1/users', undefined, token)).body.error.code).toBe('forbidden');
    expect((await test.request('GET', '/v1/users/admin', undefined, token)).body.error.code).toBe(
      'forbidden',
    );

    const renamed = await test.request('PATCH', `/v1/users/${dora.id}`, { displayName: 'Dora D.' });
    expect(renamed.body).toMatchObject({ displayName: 'Dora D.', name: 'dora' });
    expect((await test.request('PATCH', '/v1/users/dora', { disabled: true })).body.disabled).toBe(true);
    // A disabled user's tokens and logins are refused.
    expect((await test.request('GET', '/v1/users/me', undefined, token)).status).toBe(401);
    expect((await login('dora', PASSWORD)).status).toBe(401);
    expect((await test.request('PATCH', '/v1/users/dora', { disabled: false })).body.disabled).toBe(false);
    expect((await test.request('GET', '/v1/users/me', undefined, token)).status).toBe(200);
  });

  it('refuses bad bodies with 400 naming the field, and stores nothing', async () => {
    const before = (await test.request('GET', '/v1/users')).body;
    const cases: [object, string][] = [
      [{ name: 'eve', password: 'eleven char' }, 'password: at least 12 characters'],
      [{ name: '-eve', password: PASSWORD }, 'name: use 1-64 letters'],
      [{ name: 'eve', role: 'root' }, 'role:'],
      [{ name: 'eve', colour: 'red' }, 'colour'],
      [{}, 'name:'],
    ];
    for (const [body, message] of cases) {
      const answer = await test.request('POST', '/v1/users', body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error.message).toContain(message);
    }
    expect(
      (await test.request('PATCH', '/v1/users/admin', { disabled: 'yes' })).body.error.message,
    ).toContain('disabled:');
    expect((await test.request('POST', '/v1/users/admin/tokens', { name: '' })).status).toBe(400);
    expect((await test.request('GET', '/v1/users')).body).toEqual(before);
    expect((await test.request('POST', '/v1/users', { name: 'admin' })).body.error.code).toBe('name_taken');
  });

  it('deletes a user with their rules (drained from the edge), tokens and sessions, and says so', async () => {
    await makeUser('frank');
    const granted = await test.request('POST', '/v1/grants', {
      user: 'frank',
      edge: 'edge-01',
      ports: { from: 18090, to: 18090 },
      protocols: ['tcp'],
    });
    expect(granted.status, JSON.stringify(granted.body)).toBe(201);
    const token = await tokenFor('frank');
    expect((await login('frank', PASSWORD)).status).toBe(200);
    const pushed = await test.request(
      'POST',
      '/v1/rules',
      { edge: 'edge-01', rule: { name: 'franks', listen: '127.0.0.1:18090', targets: ['127.0.0.1:18091'] } },
      token,
    );
    expect(pushed.status, JSON.stringify(pushed.body)).toBe(201);
    const deleted = deletedUserSchema.parse((await test.request('DELETE', '/v1/users/frank')).body);
    expect(deleted).toMatchObject({
      user: { name: 'frank' },
      rules: [pushed.body.id],
      tokens: 1,
      sessions: 1,
    });
    const removals = edge.received
      .filter((m) => m.type === 'push')
      .map((m) => (m as { remove?: string[] }).remove ?? []);
    expect(removals.flat()).toContain(pushed.body.id);
    expect(await test.server.store.rules.list({ owner: 'frank' })).toEqual([]);
    expect((await test.request('GET', '/v1/users/me', undefined, token)).status).toBe(401);
    expect((await test.request('GET', '/v1/users/frank')).status).toBe(404);
    expect((await test.request('DELETE', '/v1/users/admin')).body.error.message).toContain(
      'cannot delete themselves',
    );
  });
});

describe('tokens', () => {
  it('are made (shown once), listed without their secret, used, and revoked', async () => {
    await makeUser('gina');
    const first = await tokenFor('gina');
    const listed = apiTokenListSchema.parse((await test.request('GET', '/v1/users/gina/tokens')).body);
    expect(listed.tokens).toHaveLength(1);
    expect(listed.tokens[0]).toMatchObject({ name: 'test', lastUsedAt: null, revoked: false });
    expect(JSON.stringify(listed)).not.toContain(first);
    now += 1000;
    // Gina makes her own second token, and may not touch anyone else's.
    const second = await test.request('POST', '/v1/users/me/tokens', { name: 'laptop' }, first);
    expect(second.status).toBe(201);
    expect((await test.request('GET', '/v1/users/admin/tokens', undefined, first)).status).toBe(403);
    const used = apiTokenListSchema.parse((await test.request('GET', '/v1/users/gina/tokens')).body);
    expect(used.tokens[0]?.lastUsedAt).toBe(new Date(now).toISOString());
    const revoked = await test.request('DELETE', `/v1/users/gina/tokens/${second.body.id}`, undefined, first);
    expect(revoked.body).toMatchObject({ id: second.body.id, revoked: true });
    expect((await test.request('GET', '/v1/users/me', undefined, second.body.token)).status).toBe(401);
    expect((await test.request('DELETE', '/v1/users/gina/tokens/t_none')).status).toBe(404);
  });
});

describe('sessions', () => {
  it('login sets an HttpOnly, SameSite=Strict cookie for 7 days; the cookie authenticates; logout ends it', async () => {
    await makeUser('hana');
    const answer = await login('hana', PASSWORD);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ name: 'hana' });
    expect(answer.setCookie).toMatch(
      /^sluice_session=sls_[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=604800$/,
    );
    const cookie = answer.cookie!;
    expect((await asBrowser('GET', '/v1/users/me', cookie)).body).toMatchObject({ name: 'hana' });
    // Only the cookie's hash is stored.
    expect(JSON.stringify(await test.server.store.users.list())).not.toContain(cookie);
    const out = await test.server.api.inject({
      method: 'POST',
      url: '/v1/auth/logout',
      headers: {
        host: 'localhost:80',
        origin: 'http://localhost:80',
        [CSRF_HEADER]: '1',
        cookie: `${SESSION_COOKIE}=${cookie}`,
      },
    });
    expect(out.statusCode).toBe(204);
    expect(out.headers['set-cookie']).toMatch(/^sluice_session=; .*Max-Age=0/);
    expect((await asBrowser('GET', '/v1/users/me', cookie)).status).toBe(401);
  });

  it('a cookie write needs this origin and the CSRF header; a Bearer write does not', async () => {
    await makeUser('ivan');
    const cookie = (await login('ivan', PASSWORD)).cookie!;
    const body = { name: 'from-browser' };
    const noHeader = await asBrowser('POST', '/v1/users/me/tokens', cookie, { body, csrf: false });
    expect(noHeader).toMatchObject({ status: 403, body: { error: { code: 'csrf_failed' } } });
    const foreign = await asBrowser('POST', '/v1/users/me/tokens', cookie, {
      body,
      origin: 'http://evil.example',
    });
    expect(foreign).toMatchObject({ status: 403, body: { error: { code: 'csrf_failed' } } });
    const noOrigin = await asBrowser('POST', '/v1/users/me/tokens', cookie, { body, origin: null });
    expect(noOrigin.body.error.code).toBe('csrf_failed');
    expect(
      apiTokenListSchema.parse((await test.request('GET', '/v1/users/ivan/tokens')).body).tokens,
    ).toEqual([]);
    expect((await asBrowser('POST', '/v1/users/me/tokens', cookie, { body })).status).toBe(201);
    // Reads need no CSRF header; Bearer writes skip the check.
    expect((await asBrowser('GET', '/v1/users/me', cookie, { csrf: false, origin: null })).status).toBe(200);
    expect((await test.request('POST', '/v1/users/ivan/tokens', { name: 'cli' })).status).toBe(201);
  });

  it('ends after 8 hours unused, and after 7 days however used', async () => {
    await makeUser('jo');
    const idle = (await login('jo', PASSWORD)).cookie!;
    now += 8 * HOUR - 1000;
    expect((await asBrowser('GET', '/v1/users/me', idle)).status).toBe(200);
    now += 8 * HOUR + 1000;
    expect((await asBrowser('GET', '/v1/users/me', idle)).status).toBe(401);

    const busy = (await login('jo', PASSWORD)).cookie!;
    for (let day = 0; day < 24; day++) {
      now += 7 * HOUR;
      expect((await asBrowser('GET', '/v1/users/me', busy)).status, `after ${(day + 1) * 7} h`).toBe(200);
    }
    now += 7 * HOUR; // 175 h: past the 168 h the session may last
    expect((await asBrowser('GET', '/v1/users/me', busy)).body.error.code).toBe('unauthorized');
  });

  it('locks (user, address) out after 5 failures, doubling, with the same answers for a user that does not exist', async () => {
    await makeUser('kim');
    for (const name of ['kim', 'nobody-here']) {
      const answers = [];
      for (let i = 0; i < 5; i++) answers.push(await login(name, 'wrong password!', '10.0.0.5'));
      expect(answers.map((a) => [a.status, a.body])).toEqual(
        Array.from({ length: 5 }, () => [
          401,
          { error: { code: 'unauthorized', message: 'wrong user name or password' } },
        ]),
      );
      const locked = await login(name, PASSWORD, '10.0.0.5');
      expect(locked.status).toBe(429);
      expect(locked.body.error.code).toBe('rate_limited');
      expect(locked.headers['retry-after']).toBe('60');
    }
    // Another address is not locked out.
    expect((await login('kim', PASSWORD, '10.0.0.6')).status).toBe(200);
    now += 61_000;
    // A further failure within the window doubles the lockout.
    expect((await login('kim', 'wrong password!', '10.0.0.5')).status).toBe(401);
    expect((await login('kim', PASSWORD, '10.0.0.5')).headers['retry-after']).toBe('120');
    now += 121_000;
    expect((await login('kim', PASSWORD, '10.0.0.5')).status).toBe(200);
    const failures = await test.server.metrics.registry.getSingleMetricAsString(
      'sluice_server_auth_failures_total',
    );
    expect(failures).toMatch(/reason="rate_limited"} [1-9]/);
    expect(failures).toMatch(/reason="bad_password"} [1-9]/);
    const denials = await test.server.metrics.registry.getSingleMetricAsString('sluice_server_denials_total');
    expect(denials).toMatch(/reason="rate_limited"} [1-9]/);
    expect(denials).toMatch(/reason="unauthorized"} [1-9]/);
  });

  it('after an admin reset, a session may only change the password; changing it ends the other sessions', async () => {
    await makeUser('lee');
    const other = (await login('lee', PASSWORD)).cookie!;
    const reset = await test.request('POST', '/v1/users/lee/password-reset', {
      temporaryPassword: 'temporary pass 1',
    });
    expect(reset.status).toBe(204);
    expect((await asBrowser('GET', '/v1/users/me', other)).status).toBe(401);
    const temp = await login('lee', 'temporary pass 1');
    expect(temp.body.mustChangePassword).toBe(true);
    const cookie = temp.cookie!;
    expect((await asBrowser('GET', '/v1/edges', cookie)).body.error.code).toBe('password_change_required');
    expect((await asBrowser('GET', '/v1/users/me', cookie)).status).toBe(200);
    const wrong = await asBrowser('PUT', '/v1/users/me/password', cookie, {
      body: { currentPassword: 'not it at all', newPassword: 'a brand new secret' },
    });
    expect(wrong.body.error.message).toContain('currentPassword');
    const short = await asBrowser('PUT', '/v1/users/me/password', cookie, {
      body: { currentPassword: 'temporary pass 1', newPassword: 'short' },
    });
    expect(short.body.error.message).toContain('newPassword: at least 12 characters');
    const second = (await login('lee', 'temporary pass 1')).cookie!;
    const changed = await asBrowser('PUT', '/v1/users/me/password', cookie, {
      body: { currentPassword: 'temporary pass 1', newPassword: 'a brand new secret' },
    });
    expect(changed.status).toBe(204);
    expect((await asBrowser('GET', '/v1/edges', cookie)).status).toBe(200);
    expect((await asBrowser('GET', '/v1/users/me', second)).status).toBe(401);
    expect((await login('lee', 'temporary pass 1')).status).toBe(401);
    expect((await login('lee', 'a brand new secret')).body.mustChangePassword).toBe(false);
  });

  it('stores an argon2id hash with OWASP parameters, never the password', async () => {
    const user = await makeUser('max');
    const hash = await test.server.store.users.passwordHash(user.id);
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(hash).not.toContain(PASSWORD);
    // A user made for tokens only cannot log in.
    await makeUser('nia', null);
    expect((await login('nia', PASSWORD)).status).toBe(401);
  });
});

describe('audit', () => {
  it('records changes and denials with user and address; an admin filters and pages through them', async () => {
    await makeUser('olga');
    for (let i = 0; i < 3; i++) await login('olga', 'not her password', '10.0.0.9');
    const token = await tokenFor('olga');
    expect((await test.request('GET', '/v1/users', undefined, token)).status).toBe(403);
    const page = async (query: string) => {
      const answer = await test.request('GET', `/v1/audit?${query}`);
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      return auditListSchema.parse(answer.body);
    };
    const logins = await page('action=auth.login&limit=2');
    expect(logins.entries).toHaveLength(2);
    expect(logins.entries[0]).toMatchObject({
      action: 'auth.login',
      target: 'olga',
      outcome: 'unauthorized',
      from: '10.0.0.9',
    });
    expect(logins.next).toBe(logins.entries[1]?.id);
    const rest = await page(`action=auth.login&limit=2&before=${logins.next}`);
    expect(rest.entries[0]?.id).toBeLessThan(logins.next!);
    expect(rest.entries.every((e) => e.action === 'auth.login')).toBe(true);
    const olgas = await page('user=olga');
    expect(olgas.entries.map((e) => [e.action, e.outcome])).toContainEqual(['GET /v1/users', 'forbidden']);
    expect(olgas.next).toBeNull();
    // A change carries the object before and after; a new token's secret is nowhere in it.
    await test.request('PATCH', '/v1/users/olga', { displayName: 'Olga O.' });
    const [renamed] = (await page('action=user.update&limit=1')).entries;
    expect(renamed?.change).toMatchObject({
      before: { displayName: 'olga' },
      after: { displayName: 'Olga O.' },
    });
    const secret = await tokenFor('olga');
    const [created] = (await page('action=token.create&limit=1')).entries;
    expect(created?.change).toMatchObject({ before: null, after: { name: 'test', revoked: false } });
    expect(JSON.stringify(created)).not.toContain(secret);
    const tokenId = (created?.change?.after as { id: string } | undefined)?.id;
    expect((await test.request('DELETE', `/v1/users/olga/tokens/${tokenId}`)).status).toBe(200);
    const [revoked] = (await page('action=token.revoke&limit=1')).entries;
    expect(revoked?.change).toMatchObject({ before: { revoked: false }, after: { revoked: true } });
    await test.request('DELETE', '/v1/users/olga');
    const [removed] = (await page('action=user.remove&limit=1')).entries;
    expect(removed?.change).toMatchObject({ before: { user: { name: 'olga' } }, after: null });
    // A denial records no change.
    expect(olgas.entries.find((e) => e.outcome === 'forbidden')?.change).toBeNull();
    const later = await page(`since=${new Date(now + 1).toISOString()}`);
    expect(later.entries).toEqual([]);
    const bad = await test.request(
      'GET',
      `/v1/audit?since=${new Date(now).toISOString()}&until=${new Date(now - 1).toISOString()}`,
    );
    expect(bad.body.error.message).toBe('since: since must be before until');
    expect((await test.request('GET', '/v1/audit?since=yesterday')).body.error.message).toMatch(/^since: /);
  });
});
