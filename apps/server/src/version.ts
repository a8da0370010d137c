import { readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export const SERVER_VERSION = pkg.version;

export function versionLine(): string {
  return `sluice-server ${SERVER_VERSION} (node ${process.version})`;
}
