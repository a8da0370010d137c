// Features the schema accepts but this build's data plane does not implement yet. A config
// that asks for one is refused at load, at the key that asks, rather than accepted and then
// silently not honoured. Delete an entry when the data plane gains the feature.

import type { PathIssue } from './zod-issues.ts';

interface NotYetSupported {
  /** Where the key sits: `[]` walks every element of an array, `*` every key of a table. */
  readonly path: string;
  /** Whether the raw TOML value at `path` asks for the feature (false for absent values). */
  readonly uses: (value: unknown) => boolean;
  /** What is not supported, as the start of the sentence. */
  readonly what: (value: unknown) => string;
}

function isTableWithKeys(value: unknown): boolean {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length > 0
  );
}

const quoted = (value: unknown) => JSON.stringify(value);

export const NOT_YET_SUPPORTED: readonly NotYetSupported[] = [
  { path: 'rules[].sni', uses: isTableWithKeys, what: () => 'SNI routing' },
  {
    path: 'rules[].proxy_protocol',
    uses: (v) => v === 'v1' || v === 'v2',
    what: (v) => `PROXY protocol ${quoted(v)}`,
  },
  { path: 'rules[].accept_proxy', uses: (v) => v === true, what: () => 'accept_proxy = true' },
];

interface Found {
  readonly path: readonly PropertyKey[];
  readonly value: unknown;
}

function walk(value: unknown, segments: readonly string[], at: readonly PropertyKey[], out: Found[]): void {
  const [head, ...rest] = segments;
  if (head === undefined) {
    out.push({ path: at, value });
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  if (head === '*') {
    if (Array.isArray(value)) return;
    for (const [key, child] of Object.entries(value)) walk(child, rest, [...at, key], out);
    return;
  }
  if (head.endsWith('[]')) {
    const list: unknown = (value as Record<string, unknown>)[head.slice(0, -2)];
    if (!Array.isArray(list)) return;
    list.forEach((child, i) => {
      walk(child, rest, [...at, head.slice(0, -2), i], out);
    });
    return;
  }
  if (Array.isArray(value) || !Object.hasOwn(value, head)) return;
  walk((value as Record<string, unknown>)[head], rest, [...at, head], out);
}

/** Every use of a not-yet-supported feature in a raw (parsed TOML, unvalidated) document. */
export function findNotYetSupported(document: unknown): PathIssue[] {
  const issues: PathIssue[] = [];
  for (const entry of NOT_YET_SUPPORTED) {
    const found: Found[] = [];
    walk(document, entry.path.split('.'), [], found);
    for (const { path, value } of found) {
      if (entry.uses(value)) {
        issues.push({ path, message: `${entry.what(value)} is not supported by this version of sluice yet` });
      }
    }
  }
  return issues;
}
