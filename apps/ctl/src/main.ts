// sluicectl: the operator's command line for sluice-server (docs/ctl.md).

import { enableCompileCache } from 'node:module';
import { text } from 'node:stream/consumers';

// A command line is started often and lives briefly: caching the compiled (type-stripped) code
// in the OS temp dir takes start-up from about 0.25 s to 0.15 s. The modules load after it.
enableCompileCache();
const { runCli } = await import('./cli.ts');
const { colorWanted } = await import('./color.ts');

// `sluicectl rule-stats ID --watch | head -3`: a reader that went away ends sluicectl quietly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(0);
});

process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  tty: process.stdout.isTTY === true,
  color: {
    stdout: colorWanted(process.stdout.isTTY === true, process.env),
    stderr: colorWanted(process.stderr.isTTY === true, process.env),
  },
  stdin: () => text(process.stdin),
  // Only `rule-stats --watch` asks: Ctrl-C then ends the watch and sluicectl exits 0. Any other
  // command keeps Node's default, which ends the process at once.
  interrupt: () => {
    const controller = new AbortController();
    process.once('SIGINT', () => controller.abort());
    return controller.signal;
  },
});
