// Where things sit in the checkout, and the Node that runs the measured processes.

import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..', '..');
/** The edge's entry: the bin, which serves its TypeScript pre-stripped (as `./run edge` does). */
export const EDGE_MAIN = join(REPO_ROOT, 'apps', 'edge', 'bin', 'sluice-edge.js');
export const RESULTS_DIR = join(REPO_ROOT, 'benchmarks', 'out');

/** The repo's Node 24 (`./run` puts it in .tools/bin), else the Node running the bench. */
export const NODE_BIN = existsSync(join(REPO_ROOT, '.tools', 'bin', 'node'))
  ? join(REPO_ROOT, '.tools', 'bin', 'node')
  : process.execPath;
