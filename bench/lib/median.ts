/**
 * The median of several runs of one scenario, field by field: every number is
 * the median of that number across the runs (the mean of the two middle ones
 * for an even count); anything else is taken from the first run. Runs of one
 * scenario have the same shape, so each figure of the table is the median of
 * its own measurements, gateway and baseline alike.
 */
export function medianOf<T>(runs: readonly T[]): T {
  if (runs.length === 0) throw new Error('medianOf: no runs');
  return merge(runs as readonly unknown[]) as T;
}

function merge(values: readonly unknown[]): unknown {
  const [first] = values;
  if (values.every((v) => typeof v === 'number')) return median(values as number[]);
  if (Array.isArray(first)) {
    const sameLength = values.every((v) => Array.isArray(v) && v.length === first.length);
    return sameLength ? first.map((_, i) => merge(values.map((v) => (v as unknown[])[i]))) : first;
  }
  if (first !== null && typeof first === 'object' && values.every((v) => v !== null && typeof v === 'object' && !Array.isArray(v))) {
    const keys = Object.keys(first);
    return Object.fromEntries(keys.map((key) => [key, merge(values.map((v) => (v as Record<string, unknown>)[key]))]));
  }
  return first;
}

/** The median of `numbers`; NaN stays out unless every value is NaN. */
export function median(numbers: readonly number[]): number {
  const sorted = numbers.filter((n) => !Number.isNaN(n)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}
