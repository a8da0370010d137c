import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

export function versionLine(): string {
  return `sluice-edge ${pkg.version} (node ${process.version}, relay: js)`;
}
