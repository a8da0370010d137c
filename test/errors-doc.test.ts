// docs/errors.md is generated from the error tables; a table changed without `pnpm docs:errors`
// leaves the page stale, and this fails naming the command.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_AREAS, ERRORS_DOC, errorsDocument } from '../scripts/errors-doc.ts';

describe('docs/errors.md', () => {
  it('is what the error tables make (run `./run docs:errors` after changing a table)', () => {
    expect(readFileSync(ERRORS_DOC, 'utf8')).toBe(errorsDocument());
  });

  it('lists every code of every area, each area once', () => {
    const page = readFileSync(ERRORS_DOC, 'utf8');
    const areas = ERROR_AREAS.map((a) => a.errors.area);
    expect(new Set(areas).size).toBe(areas.length);
    for (const { errors } of ERROR_AREAS) {
      const section = page.split(`(\`${errors.area}\`)`)[1]?.split('\n## ')[0] ?? '';
      for (const code of errors.codes) expect(section).toContain(`| \`${code}\` |`);
    }
  });
});
