// One stack of teardown steps per test file: helpers that start a process, a server or a temp
// dir push their own teardown here, and each test file runs `afterEach(runCleanup)`, so
// nothing outlives a failed test.

// What a teardown resolves with is ignored (a kill answers the exit status).
type Teardown = () => unknown;

const STACK: Teardown[] = [];

export function deferCleanup(teardown: Teardown): void {
  STACK.push(teardown);
}

/** Runs every registered teardown (last in, first out); reports the first failure after all ran. */
export async function runCleanup(): Promise<void> {
  let firstError: unknown = null;
  while (STACK.length > 0) {
    const teardown = STACK.pop()!;
    try {
      await teardown();
    } catch (err) {
      firstError ??= err;
    }
  }
  if (firstError !== null) throw firstError;
}
