// Suggests the known key an unknown key was most likely meant to be: a misspelt key is the
// commonest config mistake, and naming the intended key saves a trip to the docs.

// Optimal string alignment distance: Levenshtein plus swaps of two neighbours ("ruels"), the
// commonest typo of all.
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      }
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}

// TOML keys here are snake_case; people coming from JSON or YAML write camelCase or kebab-case.
function normalize(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/-/g, '_');
}

/** The closest of `known` to `key`, or null when none is close enough to be a likely typo. */
export function didYouMean(key: string, known: readonly string[]): string | null {
  const wanted = normalize(key);
  // Up to a third of the key may differ (at least one edit), so short keys need near matches.
  const budget = Math.max(1, Math.floor(key.length / 3));
  let best: string | null = null;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const distance = editDistance(wanted, normalize(candidate));
    if (distance <= budget && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}
