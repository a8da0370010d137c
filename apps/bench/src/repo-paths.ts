// Where things sit in the checkout, and the Node that runs the measured processes.

import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..', '..');

/** How `./run edge` starts the edge, taken apart: the environment it sets and Node's arguments. */
export interface EdgeCommand {
  readonly env: Readonly<Record<string, string>>;
  /** What follows `node`: its flags for the edge, then the bin (absolute), which serves the TypeScript pre-stripped. */
  readonly args: readonly string[];
}

/**
 * The root script `edge` (`[NAME=value ...] node [flags] BIN.js`), with its bin made absolute.
 * Read from package.json so that the bench starts the edge exactly as users do.
 */
export function edgeCommand(script: string, root: string): EdgeCommand {
  const words = script.trim().split(/\s+/);
  const env: Record<string, string> = {};
  while (words.length > 0 && /^[A-Z_][A-Z0-9_]*=/.test(words[0]!)) {
    const word = words.shift()!;
    const eq = word.indexOf('=');
    env[word.slice(0, eq)] = word.slice(eq + 1);
  }
  const [command, ...args] = words;
  const bin = args.findIndex((arg) => arg.endsWith('.js'));
  if (command !== 'node' || bin < 0 || bin !== args.length - 1) {
    throw new Error(`package.json's "edge" script is not "[NAME=value ...] node [flags] BIN.js": ${script}`);
  }
  return { env, args: args.map((arg, i) => (i === bin ? join(root, arg) : arg)) };
}

const rootScripts = (
  JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: { edge: string } }
).scripts;
/** `EDGE.env` over the environment, then `node ...EDGE.args --config FILE`: the edge as `./run edge` starts it. */
export const EDGE: EdgeCommand = edgeCommand(rootScripts.edge, REPO_ROOT);
export const RESULTS_DIR = join(REPO_ROOT, 'benchmarks', 'out');

/** The repo's Node 24 (`./run` puts it in .tools/bin), else the Node running the bench. */
export const NODE_BIN = existsSync(join(REPO_ROOT, '.tools', 'bin', 'node'))
  ? join(REPO_ROOT, '.tools', 'bin', 'node')
  : process.execPath;
