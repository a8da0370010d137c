// What must be undone however the bench ends: child processes and the iptables chain. Cleanups
// are synchronous so they also run from process 'exit' and from Ctrl+C, where nothing awaits.

type Cleanup = () => void;

const CLEANUPS = new Set<Cleanup>();

/** Registers `fn` to run at exit (or on a signal); the returned function unregisters it. */
export function onCleanup(fn: Cleanup): () => void {
  CLEANUPS.add(fn);
  return () => {
    CLEANUPS.delete(fn);
  };
}

/** Runs every registered cleanup once, newest first; one failing does not stop the others. */
export function runCleanups(): void {
  for (const fn of [...CLEANUPS].reverse()) {
    CLEANUPS.delete(fn);
    try {
      fn();
    } catch (err) {
      process.stderr.write(
        `sluice-bench: cleanup failed: ${err instanceof Error ? err.message : String(err)}\n`,
      );
    }
  }
}

const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;

/** Runs the cleanups at exit and on SIGINT / SIGTERM / SIGHUP (then exits 128 + signal). */
export function installCleanupHandlers(log: (line: string) => void): void {
  process.once('exit', runCleanups);
  for (const [signal, exitCode] of Object.entries(SIGNAL_EXIT_CODES)) {
    process.once(signal, () => {
      log(`${signal}: stopping contenders and removing what the bench set up`);
      runCleanups();
      process.exit(exitCode);
    });
  }
}
