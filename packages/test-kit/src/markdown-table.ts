// The docs keep tables that tests compare with the code (error codes, exit codes): this reads
// one such table back as cells.

/** The rows of the first markdown table after `heading`, as arrays of trimmed cells. */
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
