// Reads and validates a standalone config. Every problem the file has is reported at once,
// each naming the file, the key and the reason, and the result is deep-frozen: the data plane
// shares it across modules and must never see it change under it.

import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { deepFreeze } from './deep-freeze.ts';
import { type ConfigError, configError } from './errors.ts';
import { findRuleConflicts } from './rule-conflicts.ts';
import { standaloneConfigSchema } from './schema.ts';
import type { StandaloneConfig } from './types.ts';
import { configErrorMap, issuesFromZod, type PathIssue, toConfigIssue } from './zod-issues.ts';

const TOML_PREFIX = 'Invalid TOML document: ';

function syntaxError(file: string, error: TomlError): ConfigError {
  const firstLine = error.message.split('\n', 1)[0] ?? error.message;
  const reason = firstLine.startsWith(TOML_PREFIX) ? firstLine.slice(TOML_PREFIX.length) : firstLine;
  return configError('config_syntax', file, [{ path: '', message: reason }], {
    line: error.line,
    column: error.column,
    excerpt: error.codeblock,
  });
}

// Issues come from two passes (schema, cross-rule checks); ordering them
// by where they sit in a typical file reads better than by which pass found them.
function rank(issue: PathIssue): number {
  const [head, index] = issue.path;
  if (head === 'rules' && typeof index === 'number') return index;
  if (head === 'owners') return Number.MAX_SAFE_INTEGER;
  return -1;
}

function orderIssues(issues: readonly PathIssue[]): PathIssue[] {
  const seen = new Set<string>();
  const unique = issues.filter((issue) => {
    const key = `${issue.path.map(String).join('\0')}\n${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return unique.sort((a, b) => rank(a) - rank(b));
}

/**
 * Validates the text of a standalone TOML config. `file` (made absolute) names the file in
 * errors and in the result.
 * @throws ConfigError `config_syntax` or `config_invalid`, listing every problem found.
 */
export function parseStandaloneConfig(text: string, file: string): StandaloneConfig {
  const absolute = resolve(file);
  let document: Record<string, unknown>;
  try {
    document = parse(text);
  } catch (error) {
    if (error instanceof TomlError) throw syntaxError(absolute, error);
    throw error;
  }
  const result = standaloneConfigSchema.safeParse(document, { error: configErrorMap });
  const issues = orderIssues([
    ...(result.success ? [] : issuesFromZod(result.error)),
    ...findRuleConflicts(document.rules),
  ]);
  if (issues.length > 0 || !result.success) {
    throw configError('config_invalid', absolute, issues.map(toConfigIssue));
  }
  return deepFreeze({ file: absolute, ...result.data });
}

const READ_FAILURES: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  ELOOP: 'too many symbolic links',
};

function readFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === undefined) return error instanceof Error ? error.message : String(error);
  return `${READ_FAILURES[code] ?? (error as Error).message} (${code})`;
}

// TOML files are UTF-8 by definition; decoding strictly turns a wrongly saved file into an
// error instead of replacement characters inside host names.
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads and validates a standalone TOML config.
 * @throws ConfigError `config_unreadable`, `config_syntax` or `config_invalid`.
 */
export async function loadStandaloneConfig(file: string): Promise<StandaloneConfig> {
  const absolute = resolve(file);
  let bytes: Buffer;
  try {
    bytes = await readFile(absolute);
  } catch (error) {
    throw configError('config_unreadable', absolute, [{ path: '', message: readFailure(error) }]);
  }
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    throw configError('config_unreadable', absolute, [{ path: '', message: 'it is not UTF-8 text' }]);
  }
  return parseStandaloneConfig(text, absolute);
}
