// sluicectl: the operator's command line for sluice-server (docs/ctl.md).

import { runCli } from './cli.ts';

process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  // Only `rule-stats --watch` asks: Ctrl-C then ends the watch and sluicectl exits 0. Any other
  // command keeps Node's default, which ends the process at once.
  interrupt: () => {
    const controller = new AbortController();
    process.once('SIGINT', () => controller.abort());
    return controller.signal;
  },
});
