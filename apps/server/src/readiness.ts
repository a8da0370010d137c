// Readiness: the server can serve only if its database answers. /healthz says the process is up;
// /readyz reads a row, so a probe sees a database that is down, locked past the wait, or corrupt.

import type { Store } from './store/store.ts';

/** null when the store answered; else why it did not, in one line. */
export async function storeProblem(store: Store): Promise<string | null> {
  try {
    await store.ping();
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}
