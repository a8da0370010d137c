import { readFileSync } from 'node:fs';
import { spliceStatus } from '@sluice/splice';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export function versionLine(): string {
  const splice = spliceStatus();
  const relay = splice.enabled ? 'splice' : 'js';
  return `sluice-edge ${pkg.version} (node ${process.version}, relay: ${relay}; splice: ${splice.reason})`;
}
