// API users from the command line: `sluice-server user add NAME`, `user token NAME` and
// `user password NAME`. The first admin, and the first password the web console can log in with,
// must come from somewhere that needs no token; these open the store beside a running server
// (SQLite serializes the writes; PostgreSQL takes them from any number of clients). `store` is
// a store spec (open-store.ts): the data dir's SQLite file, or a postgres:// URL.

import { passwordSchema, userNameSchema } from '@sluice/api';
import { apiError, serverError } from './errors.ts';
import { hashPassword } from './passwords.ts';
import { describeStore, openStore } from './store/open-store.ts';
import type { Role } from './store/records.ts';

/** A user name as the API checks it (a user's rules carry the name as their owner). */
function checkName(name: string): void {
  const checked = userNameSchema.safeParse(name);
  if (!checked.success) {
    throw serverError('usage', `user name ${JSON.stringify(name)}: ${checked.error.issues[0]?.message}`);
  }
}

/** Makes a user and its first token; answers the token, which is shown once. */
export async function addUser(spec: string, name: string, role: Role): Promise<string> {
  checkName(name);
  const store = await openStore(spec);
  try {
    return await store.transaction(async (tx) => {
      if ((await tx.users.getByName(name)) !== null)
        throw apiError(
          'name_taken',
          `user ${name} already exists in ${describeStore(spec)}; use "user token ${name}" for another token`,
        );
      const user = await tx.users.create(name, role);
      await tx.audit.add({ user: null, action: 'user.add', target: name, outcome: 'ok', from: 'cli' });
      return (await tx.users.createToken(user.id, 'cli')).token;
    });
  } finally {
    await store.close();
  }
}

/** Another token for an existing user. */
export async function addToken(spec: string, name: string): Promise<string> {
  const store = await openStore(spec);
  try {
    return await store.transaction(async (tx) => {
      const user = await tx.users.getByName(name);
      if (user === null) throw apiError('not_found', `no user ${name} in ${describeStore(spec)}`);
      await tx.audit.add({ user: null, action: 'user.token', target: name, outcome: 'ok', from: 'cli' });
      return (await tx.users.createToken(user.id, 'cli')).token;
    });
  } finally {
    await store.close();
  }
}

/**
 * Sets a user's password (not one that must be changed: whoever runs this holds the server's
 * data dir). A user of that name who does not exist yet is made, as an admin. Answers whether
 * the user was made.
 */
export async function setPassword(spec: string, name: string, password: string): Promise<boolean> {
  checkName(name);
  const checked = passwordSchema.safeParse(password);
  if (!checked.success) {
    throw serverError('usage', `password: ${checked.error.issues[0]?.message ?? 'not a valid password'}`);
  }
  const hash = await hashPassword(password);
  const store = await openStore(spec);
  try {
    return await store.transaction(async (tx) => {
      const existing = await tx.users.getByName(name);
      const user = existing ?? (await tx.users.create(name, 'admin'));
      await tx.users.setPassword(user.id, hash, false);
      await tx.users.deleteSessions(user.id);
      await tx.audit.add({ user: null, action: 'user.password', target: name, outcome: 'ok', from: 'cli' });
      return existing === null;
    });
  } finally {
    await store.close();
  }
}
