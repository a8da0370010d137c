// How each of the bench's commands (sluice-bench, bench:gate, bench:control, bench:results)
// ends: its own exit code, or a bench error printed as `code: message` with the table's exit code.

import { BENCH_ERRORS } from './errors.ts';

export async function runMain(main: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await main();
  } catch (err) {
    if (!BENCH_ERRORS.is(err)) throw err;
    process.stderr.write(`${err.code}: ${err.message}\n`);
    process.exitCode = err.exitCode ?? 1;
  }
}
