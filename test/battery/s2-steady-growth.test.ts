import assert from "node:assert/strict";
import { test } from "node:test";
import { steadyGrowth } from "./s2-huge-headers.js";

test("steadyGrowth: a steady growth is found whole", () => {
  assert.equal(steadyGrowth([100, 101, 102, 103, 104, 105]), 1);
  assert.equal(steadyGrowth([100, 103, 106]), 3);
});

test("steadyGrowth: one jump of the allocator either way is dropped", () => {
  // Two single readings would see +8 MB here, with no leak.
  assert.equal(steadyGrowth([100, 100, 108, 108, 108, 108]), 0);
  // A first reading high and the rest flat, as after the warm-up.
  assert.equal(steadyGrowth([108, 101, 101, 101, 101, 101]), 0);
  // One jump up and one down.
  assert.equal(steadyGrowth([100, 106, 106, 98, 98, 98]), 0);
  // A leak of 2 MB a step with a jump of -7 in it still shows whole.
  assert.equal(steadyGrowth([100, 102, 104, 99, 101, 103]), 2);
});

test("steadyGrowth: a leak under noise still shows over five steps", () => {
  // 2 MB a step (10 MB over the check's 10,000 attempts), readings off by 0.8 MB either
  // way in turn, the worst case for the steps: still over the 5 MB bound.
  const leak = [0, 1, 2, 3, 4, 5].map((i) => 100 + 2 * i + (i % 2 === 0 ? 0.8 : -0.8));
  assert.ok(steadyGrowth(leak) * 5 > 5, `growth per step ${steadyGrowth(leak)}`);
  // The same noise with no leak stays well under it.
  const flat = [0, 1, 2, 3, 4, 5].map((i) => 100 + (i % 2 === 0 ? 0.8 : -0.8));
  assert.ok(Math.abs(steadyGrowth(flat) * 5) < 5, `growth per step ${steadyGrowth(flat)}`);
});

test("steadyGrowth: the middle steps' mean", () => {
  // Steps 1, 2, 4, 8: the mean of 2 and 4.
  assert.equal(steadyGrowth([0, 1, 3, 7, 15]), 3);
  // Two steps: both kept.
  assert.equal(steadyGrowth([0, 1, 3]), 1.5);
});
