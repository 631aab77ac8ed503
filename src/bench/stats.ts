/**
 * Summary statistics for `bftp bench` (issue 5): the figures it reports per size, computed
 * from its samples. Pure functions, so they are tested on their own.
 */

/** What {@link summarize} says about a list of samples. */
export interface Summary {
  readonly count: number;
  readonly min: number;
  readonly median: number;
  /** The 95th percentile, nearest rank (see {@link percentile}). */
  readonly p95: number;
  readonly max: number;
  readonly mean: number;
  /**
   * Coefficient of variation, sample standard deviation (n − 1) over the mean: 0 means every
   * sample was the same; 0.1 means they spread by about 10%. 0 for fewer than two samples.
   */
  readonly cv: number;
}

/**
 * The `p`-th percentile (0 < p ≤ 100) of `values` by the nearest-rank method: the smallest
 * sample that is at least p% of the samples, so it is always one of the samples. With 20
 * samples, p95 is the 19th smallest.
 *
 * @example percentile([1, 2, 3, 4], 50) // 2
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError("Cannot take a percentile of no samples");
  if (!(p > 0 && p <= 100))
    throw new RangeError(`Cannot take percentile ${p}: expected 0 < p ≤ 100`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

/** The median: the middle sample, or the mean of the middle two for an even count. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError("Cannot take the median of no samples");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const upper = sorted[mid] ?? Number.NaN;
  return sorted.length % 2 === 1 ? upper : ((sorted[mid - 1] ?? Number.NaN) + upper) / 2;
}

/** Sample standard deviation over the mean (0 for fewer than two samples or a zero mean). */
export function coefficientOfVariation(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  if (mean === 0) return 0;
  const squares = values.reduce((a, v) => a + (v - mean) ** 2, 0);
  return Math.sqrt(squares / (values.length - 1)) / mean;
}

/** Count, min, median, p95, max, mean and CV of a non-empty list of samples. */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new RangeError("Cannot summarize no samples");
  return {
    count: values.length,
    min: Math.min(...values),
    median: median(values),
    p95: percentile(values, 95),
    max: Math.max(...values),
    mean: values.reduce((a, b) => a + b, 0) / values.length,
    cv: coefficientOfVariation(values),
  };
}
