// The code of a SluiceError a call raises, for tests that check which error, not its wording.

import { SluiceError } from '@sluice/errors';

/** The code `fn` throws; undefined when it returns. Anything but a SluiceError is thrown on. */
export function thrownCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof SluiceError) return error.code;
    throw error;
  }
  return undefined;
}

/** The code `promise` rejects with; undefined when it resolves. Anything but a SluiceError is thrown on. */
export async function rejectedCode(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SluiceError) return error.code;
    throw error;
  }
  return undefined;
}
