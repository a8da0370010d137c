// Real peers the tests drive (openssl, haproxy, iperf3) are found on PATH or in the sbin
// directories; a missing one fails the test with the command that installs it, never skips it.

import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Where `name` lives (sbin too: a non-login shell may not have it on PATH), or an error naming apt-get. */
export function requireProgram(name: string, debianPackage = name): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'];
  for (const dir of dirs.filter((d) => d !== '')) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here; the next directory.
    }
  }
  throw new Error(
    `${name} is not installed, and these tests need it: apt-get install -y ${debianPackage} ` +
      '(scripts/system-deps.sh test installs it when run as root)',
  );
}
