// Reading the tables of the docs, for tests that hold a doc page to the code it describes.

/** The rows (not the header) of the first Markdown table after `heading`, as arrays of cells. */
export function markdownTableAfter(doc: string, heading: string): string[][] {
  const at = doc.indexOf(heading);
  if (at < 0) throw new Error(`the document has no "${heading}"`);
  const lines = doc.slice(at).split('\n');
  const start = lines.findIndex((line) => line.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .slice(1, -1)
        .split('|')
        .map((cell) => cell.trim()),
    );
  }
  return rows;
}
