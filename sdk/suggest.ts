/**
 * Names close to a misspelled one, for "did you mean": at most `limit`, within an edit
 * distance of about a third of the name (case ignored), closest first. Hand-written: a few
 * lines, and no dependency for it.
 * @param limit the most names returned (default 3)
 */
export function closestNames(wanted: string, names: readonly string[], limit = 3): string[] {
  const max = Math.max(1, Math.floor(wanted.length / 3));
  return [...new Set(names)]
    .map((name) => ({ name, d: distance(wanted.toLowerCase(), name.toLowerCase()) }))
    .filter((c) => c.d <= max && c.name !== wanted)
    .sort((a, b) => a.d - b.d || a.name.localeCompare(b.name))
    .slice(0, limit)
    .map((c) => c.name);
}

/** Levenshtein distance, one row at a time. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}
