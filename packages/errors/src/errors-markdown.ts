// docs/errors.md is made from the tables themselves, so the page cannot drift from the code.

import type { ErrorTable } from './define-errors.ts';

/** What the page needs of an area: its name and its rows. */
export interface DocumentedArea {
  readonly title: string;
  readonly errors: { readonly area: string; readonly table: ErrorTable; readonly codes: readonly string[] };
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

/** One section per area: code, message template, HTTP status and exit code where they apply. */
export function errorsMarkdown(areas: readonly DocumentedArea[]): string {
  const parts = [
    '# Errors',
    '',
    'Every error sluice reports has a stable code. A command prints `code: message` first and exits',
    'with the exit code below; the operator API answers `{ "error": { "code", "message" } }` with',
    'the HTTP status below. `{name}` in a message is filled from the case at hand.',
    '',
    'This page is generated from the error tables (`./run docs:errors`); a test fails when it is stale.',
  ];
  for (const { title, errors } of areas) {
    parts.push(
      '',
      `## ${title} (\`${errors.area}\`)`,
      '',
      '| code | message | HTTP | exit |',
      '| --- | --- | --: | --: |',
    );
    for (const code of errors.codes) {
      const row = errors.table[code]!;
      parts.push(`| \`${code}\` | ${cell(row.message)} | ${row.status ?? ''} | ${row.exitCode ?? ''} |`);
    }
  }
  return `${parts.join('\n')}\n`;
}
