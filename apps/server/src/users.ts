// API users from the command line: `sluice-server user add NAME` and `user token NAME`. The
// HTTP API has no user routes yet, and the first admin must come from somewhere that needs no
// token; these open the database beside a running server (SQLite serializes the writes).

import type { DataDir } from './data-dir.ts';
import { apiError, serverError } from './errors.ts';
import type { Role } from './store/records.ts';
import { SqliteStore } from './store/sqlite/sqlite-store.ts';

// The same rule as a rule's `owner` key (a user's rules carry the user's name as their owner).
const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function checkName(name: string): void {
  if (!USER_NAME.test(name)) {
    throw serverError(
      'usage',
      `user name ${JSON.stringify(name)}: use 1-64 letters, digits, "_", "." or "-", starting with a letter or digit`,
    );
  }
}

/** Makes a user and its first token; answers the token, which is shown once. */
export async function addUser(dir: DataDir, name: string, role: Role): Promise<string> {
  checkName(name);
  const store = new SqliteStore(dir.dbFile);
  try {
    return await store.transaction(async (tx) => {
      if ((await tx.users.getByName(name)) !== null)
        throw apiError(
          'name_taken',
          `user ${name} already exists in ${dir.dbFile}; use "user token ${name}" for another token`,
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
export async function addToken(dir: DataDir, name: string): Promise<string> {
  const store = new SqliteStore(dir.dbFile);
  try {
    return await store.transaction(async (tx) => {
      const user = await tx.users.getByName(name);
      if (user === null) throw apiError('not_found', `no user ${name} in ${dir.dbFile}`);
      await tx.audit.add({ user: null, action: 'user.token', target: name, outcome: 'ok', from: 'cli' });
      return (await tx.users.createToken(user.id, 'cli')).token;
    });
  } finally {
    await store.close();
  }
}
