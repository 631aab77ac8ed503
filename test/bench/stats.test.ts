import assert from "node:assert/strict";
import { test } from "node:test";
import { coefficientOfVariation, median, percentile, summarize } from "../../src/bench/stats.js";

// Issue 5, item 1: the figures `bftp bench` reports per size.

test("percentile is the nearest rank: always one of the samples", () => {
  const twenty = Array.from({ length: 20 }, (_, i) => 20 - i); // 20..1, unsorted
  assert.equal(percentile(twenty, 95), 19);
  assert.equal(percentile(twenty, 100), 20);
  assert.equal(percentile(twenty, 50), 10);
  assert.equal(percentile(twenty, 5), 1);
  assert.equal(percentile([7], 95), 7);
  assert.equal(percentile([1, 2, 3, 4], 50), 2);
  assert.equal(percentile([3, 1, 2], 95), 3);
});

test("percentile refuses no samples and a p outside (0, 100]", () => {
  assert.throws(() => percentile([], 50), RangeError);
  assert.throws(() => percentile([1], 0), RangeError);
  assert.throws(() => percentile([1], 101), RangeError);
  assert.throws(() => percentile([1], Number.NaN), RangeError);
});

test("median is the middle sample, or the mean of the middle two", () => {
  assert.equal(median([5, 1, 3]), 3);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([9]), 9);
  assert.throws(() => median([]), RangeError);
});

test("the coefficient of variation is the sample standard deviation over the mean", () => {
  // mean 5, squares 9+1+1+9 = 20, sample variance 20/3
  assert.equal(coefficientOfVariation([2, 4, 6, 8]), Math.sqrt(20 / 3) / 5);
  assert.equal(coefficientOfVariation([3, 3, 3]), 0);
  assert.equal(coefficientOfVariation([42]), 0);
  assert.equal(coefficientOfVariation([0, 0]), 0);
  // Scaling every sample leaves it unchanged: it measures uniformity, not speed.
  assert.ok(
    Math.abs(coefficientOfVariation([20, 40, 60, 80]) - coefficientOfVariation([2, 4, 6, 8])) <
      1e-12,
  );
});

test("summarize gives count, min, median, p95, max, mean and CV together", () => {
  const s = summarize([10, 30, 20, 40]);
  assert.deepEqual(
    { count: s.count, min: s.min, median: s.median, p95: s.p95, max: s.max, mean: s.mean },
    { count: 4, min: 10, median: 25, p95: 40, max: 40, mean: 25 },
  );
  assert.equal(s.cv, coefficientOfVariation([10, 20, 30, 40]));
  assert.throws(() => summarize([]), RangeError);
});
