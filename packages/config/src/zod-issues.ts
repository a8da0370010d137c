// Turns zod's issues into what an operator reads: TOML key paths (`rules[1].listen`), TOML
// type names (table, integer, float) and "expected X, found Y", one issue per unknown key.

import { z } from 'zod';
import { didYouMean } from './did-you-mean.ts';
import type { ConfigIssue } from './errors.ts';

/** An issue whose path is still a list of keys and indexes, so issues can be ordered. */
export interface PathIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

const BARE_KEY = /^[A-Za-z0-9_-]+$/;

/** `['rules', 1, 'sni', 'a.example.com']` → `rules[1].sni."a.example.com"` (TOML quoting). */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') {
      out += `[${segment}]`;
      continue;
    }
    const key = String(segment);
    const text = BARE_KEY.test(key) ? key : JSON.stringify(key);
    out += out === '' ? text : `.${text}`;
  }
  return out;
}

const MAX_SHOWN = 60;

function quote(text: string): string {
  const shown = text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
  return JSON.stringify(shown);
}

/** Describes a parsed TOML value by its TOML type, with the value when it is short. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return `a string (${quote(value)})`;
  if (typeof value === 'boolean') return `a boolean (${value})`;
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'a float (nan)';
    if (!Number.isFinite(value)) return `a float (${value > 0 ? 'inf' : '-inf'})`;
    return Number.isInteger(value) ? `an integer (${value})` : `a float (${value})`;
  }
  if (typeof value === 'bigint') return `an integer (${value})`;
  if (value instanceof Date) return `a date-time (${value.toISOString()})`;
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object' && value !== null) return 'a table';
  return typeof value;
}

const EXPECTED: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  array: 'an array',
  object: 'a table',
  record: 'a table',
};

export const MISSING_KEY = 'required key is missing';

/** The message for a value of the wrong TOML type, or for a required key left out. */
export function typeMismatch(expected: string, found: unknown): string {
  return found === undefined ? MISSING_KEY : `expected ${expected}, found ${describeValue(found)}`;
}

/** An `error` option for a schema whose type needs a fuller name than zod's, e.g. "a bandwidth". */
export function expecting(expected: string): z.core.$ZodErrorMap {
  return (issue) => (issue.code === 'invalid_type' ? typeMismatch(expected, issue.input) : undefined);
}

function entries(count: number | bigint): string {
  return Number(count) === 1 ? '1 entry' : `${count} entries`;
}

function found(list: unknown): string {
  return Array.isArray(list) ? `, found ${list.length}` : '';
}

function knownKeys(schema: unknown): readonly string[] {
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

function unknownKeyMessage(key: string, known: readonly string[]): string {
  const suggestion = didYouMean(key, known);
  return suggestion === null
    ? `unknown key ${JSON.stringify(key)}`
    : `unknown key ${JSON.stringify(key)}; did you mean ${JSON.stringify(suggestion)}?`;
}

// One line per unknown key, in the issue's key order, so issuesFromZod can give each key its
// own path: zod reports them together at the table's path.
const KEY_SEPARATOR = '\n';

/** The per-parse error map: phrases every built-in zod issue the way the config docs do. */
export const configErrorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type': {
      // z.int() reports a non-number as expecting "number"; say "integer" there too.
      const expected = issue.inst instanceof z.ZodNumber && issue.inst.isInt ? 'int' : issue.expected;
      return typeMismatch(EXPECTED[expected] ?? expected, issue.input);
    }
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, found ${describeValue(issue.input)}`;
    case 'too_small': {
      if (issue.origin === 'array')
        return `must have at least ${entries(issue.minimum)}${found(issue.input)}`;
      if (issue.origin === 'string') return 'must not be empty';
      const bound = issue.inclusive ? `at least ${issue.minimum}` : `more than ${issue.minimum}`;
      return `must be ${bound}, found ${String(issue.input)}`;
    }
    case 'too_big': {
      if (issue.origin === 'array') return `must have at most ${entries(issue.maximum)}${found(issue.input)}`;
      if (issue.origin === 'string') return `must be at most ${issue.maximum} characters long`;
      const bound = issue.inclusive ? `at most ${issue.maximum}` : `less than ${issue.maximum}`;
      return `must be ${bound}, found ${String(issue.input)}`;
    }
    case 'unrecognized_keys': {
      const known = knownKeys(issue.inst);
      return issue.keys.map((key) => unknownKeyMessage(key, known)).join(KEY_SEPARATOR);
    }
    default:
      return undefined;
  }
};

function pathKey(path: readonly PropertyKey[]): string {
  return path.map(String).join('\0');
}

/** Flattens a ZodError (parsed with configErrorMap) into path issues, one per unknown key. */
export function issuesFromZod(error: z.ZodError, at: readonly PropertyKey[] = []): PathIssue[] {
  // zod may go on to run checks on a value of the wrong type (a string's length against an
  // array's max); the type mismatch is the one thing worth saying about such a value.
  const mistyped = new Set(
    error.issues.filter((issue) => issue.code === 'invalid_type').map((issue) => pathKey(issue.path)),
  );
  const out: PathIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code !== 'invalid_type' && mistyped.has(pathKey(issue.path))) continue;
    if (issue.code === 'unrecognized_keys') {
      const messages = issue.message.split(KEY_SEPARATOR);
      issue.keys.forEach((key, i) => {
        out.push({ path: [...at, ...issue.path, key], message: messages[i] ?? unknownKeyMessage(key, []) });
      });
      continue;
    }
    out.push({ path: [...at, ...issue.path], message: issue.message });
  }
  return out;
}

export function toConfigIssue(issue: PathIssue): ConfigIssue {
  return { path: formatPath(issue.path), message: issue.message };
}

export type Validation<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

/**
 * Validates `input` against one of this package's schemas (e.g. `ruleSchema` for a pushed
 * rule) and phrases any issues as the config loader does, with paths under `at`.
 */
export function validate<S extends z.ZodType>(
  schema: S,
  input: unknown,
  at: readonly PropertyKey[] = [],
): Validation<z.output<S>> {
  const result = schema.safeParse(input, { error: configErrorMap });
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, issues: issuesFromZod(result.error, at).map(toConfigIssue) };
}
