// Users with passwords for the web console's tests, made through the API with the admin token.

import type { ApiClient } from './api-client.ts';

export const ADMIN_PASSWORD = 'admin-password-1';

/** Makes a user with a password (role admin or user); answers its name. */
export async function makeUser(
  api: ApiClient,
  name: string,
  password: string,
  role: 'admin' | 'user' = 'user',
): Promise<string> {
  const made = await api.post('/v1/users', { name, password, role });
  if (made.status !== 201) throw new Error(`POST /v1/users ${name}: ${made.status} ${made.text}`);
  return name;
}
