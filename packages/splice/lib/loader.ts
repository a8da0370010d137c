// Finds and loads the compiled binding. It tries a fixed list of places, records why each one
// failed, and turns that into { enabled, reason } for start-up logs, metrics and --version.
// It never throws and never swallows an error: every failure ends up in `reason`, and each load
// is published on the diagnostics channel `sluice:splice:load`.

import { channel } from 'node:diagnostics_channel';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BINDING_EXPORTS, type NativeBinding } from './native.ts';

/**
 * The package root (holds binding.gyp and build/). In a release (`./run release`) this module is
 * bundled into lib/, so the root is the release's own directory.
 */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Where the binary is, relative to PACKAGE_ROOT, in the order tried: node-gyp's two builds in the
 * source tree, then the copy a release keeps beside its bundles.
 */
export const BINARY_CANDIDATES = [
  'build/Release/sluice_splice.node',
  'build/Debug/sluice_splice.node',
  'lib/sluice_splice.node',
] as const;

/** Written by scripts/install.mjs when the install-time build fails: one line, the reason. */
export const BUILD_FAILURE_FILE = 'build/build-failure.txt';

export const LOAD_CHANNEL = 'sluice:splice:load';

export interface LoadAttempt {
  /** Relative to the package root. */
  readonly path: string;
  readonly error: string;
}

export interface LoadResult {
  readonly binding: NativeBinding | null;
  readonly enabled: boolean;
  readonly reason: string;
  readonly attempts: readonly LoadAttempt[];
}

export interface LoadOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly platform?: NodeJS.Platform;
  readonly root?: string;
  readonly candidates?: readonly string[];
}

const loadChannel = channel(LOAD_CHANNEL);
const requireNative = createRequire(import.meta.url);

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n', 1)[0] ?? text;
}

function buildFailure(root: string): string | null {
  try {
    return readFileSync(join(root, BUILD_FAILURE_FILE), 'utf8').trim() || null;
  } catch {
    return null; // no record: the install-time build did not fail (or never ran)
  }
}

function tryLoad(absolute: string): NativeBinding | string {
  if (!existsSync(absolute)) return 'not found';
  let loaded: unknown;
  try {
    loaded = requireNative(absolute);
  } catch (error) {
    return `load failed: ${firstLine(error)}`;
  }
  const missing = BINDING_EXPORTS.filter(
    (name) => typeof (loaded as Record<string, unknown> | null)?.[name] !== 'function',
  );
  if (missing.length > 0) return `not a sluice splice binding (missing ${missing.join(', ')})`;
  return loaded as NativeBinding;
}

/** Loads the binding now (no caching: index.ts caches per thread). */
export function loadBinding(options: LoadOptions = {}): LoadResult {
  const result = resolve(options);
  if (loadChannel.hasSubscribers) {
    loadChannel.publish({ enabled: result.enabled, reason: result.reason, attempts: result.attempts });
  }
  return result;
}

function resolve(options: LoadOptions): LoadResult {
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  const root = options.root ?? PACKAGE_ROOT;
  const candidates = options.candidates ?? BINARY_CANDIDATES;
  if (env.SLUICE_NO_SPLICE === '1') {
    return { binding: null, enabled: false, reason: 'SLUICE_NO_SPLICE=1', attempts: [] };
  }
  if (platform !== 'linux') {
    return {
      binding: null,
      enabled: false,
      reason: `splice(2) is Linux-only (platform ${platform})`,
      attempts: [],
    };
  }
  const attempts: LoadAttempt[] = [];
  // One named binary, with no fallback: a sanitizer run (scripts/test-asan.sh) must not quietly
  // test the ordinary build when its own did not load.
  const override = env.SLUICE_SPLICE_ADDON;
  if (override !== undefined && override !== '') {
    const outcome = tryLoad(override);
    if (typeof outcome !== 'string') {
      return {
        binding: outcome,
        enabled: true,
        reason: `loaded ${override} (SLUICE_SPLICE_ADDON)`,
        attempts,
      };
    }
    attempts.push({ path: override, error: outcome });
    return { binding: null, enabled: false, reason: `SLUICE_SPLICE_ADDON=${override}: ${outcome}`, attempts };
  }
  for (const path of candidates) {
    const outcome = tryLoad(join(root, path));
    if (typeof outcome !== 'string') {
      return { binding: outcome, enabled: true, reason: `loaded ${path}`, attempts };
    }
    attempts.push({ path, error: outcome });
  }
  const tried = attempts.map((a) => `${a.path}: ${a.error}`).join('; ');
  const failure = buildFailure(root);
  const reason = `no usable binary (${tried})${failure ? `; install-time build: ${failure}` : ''}`;
  return { binding: null, enabled: false, reason, attempts };
}
