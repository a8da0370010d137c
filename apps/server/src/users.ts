// API users from the command line: `sluice-server user add NAME` and `user token NAME`. The
// HTTP API has no user routes yet, and the first admin must come from somewhere that needs no
// token; these open the database beside a running server (SQLite serializes the writes).

import type { DataDir } from './data-dir.ts';
import { ServerError } from './errors.ts';
import type { Role } from './store/records.ts';
import { Store } from './store/store.ts';

// The same rule as a rule's `owner` key (a user's rules carry the user's name as their owner).
const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function checkName(name: string): void {
  if (!USER_NAME.test(name)) {
    throw new ServerError(
      'usage',
      `user name ${JSON.stringify(name)}: use 1-64 letters, digits, "_", "." or "-", starting with a letter or digit`,
    );
  }
}

/** Makes a user and its first token; answers the token, which is shown once. */
export function addUser(dir: DataDir, name: string, role: Role): string {
  checkName(name);
  const store = new Store(dir.dbFile);
  try {
    return store.transaction(() => {
      if (store.getUserByName(name) !== null)
        throw new ServerError(
          'name_taken',
          `user ${name} already exists in ${dir.dbFile}; use "user token ${name}" for another token`,
        );
      const user = store.createUser(name, role);
      store.audit({ user: null, action: 'user.add', target: name, outcome: 'ok', from: 'cli' });
      return store.createToken(user.id, 'cli').token;
    });
  } finally {
    store.close();
  }
}

/** Another token for an existing user. */
export function addToken(dir: DataDir, name: string): string {
  const store = new Store(dir.dbFile);
  try {
    return store.transaction(() => {
      const user = store.getUserByName(name);
      if (user === null) throw new ServerError('not_found', `no user ${name} in ${dir.dbFile}`);
      store.audit({ user: null, action: 'user.token', target: name, outcome: 'ok', from: 'cli' });
      return store.createToken(user.id, 'cli').token;
    });
  } finally {
    store.close();
  }
}
