import { spliceStatus } from '@sluice/splice';
// A JSON import, not a read beside this file: the release bundles this module, and its bundler
// inlines the manifest.
import manifest from '../package.json' with { type: 'json' };

export function versionLine(): string {
  const splice = spliceStatus();
  const relay = splice.enabled ? 'splice' : 'js';
  return `sluice-edge ${manifest.version} (node ${process.version}, relay: ${relay}; splice: ${splice.reason})`;
}
