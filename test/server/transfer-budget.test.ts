// Issue 5: transfers size their buffers from a share of one process-wide budget, so a lone
// GET reads 1 MiB at a time and a hundred at once stay bounded.
import assert from "node:assert/strict";
import { test } from "node:test";
import { claimBuffers } from "../../src/server/transfer-budget.js";

const MiB = 1024 * 1024;

test("a lone transfer gets its maximum, many share the budget, releasing gives it back", () => {
  const lone = claimBuffers(3, MiB);
  assert.equal(lone.size(), MiB);
  const crowd = Array.from({ length: 99 }, () => claimBuffers(3, MiB));
  assert.equal(lone.size(), 64 * 1024); // 16 MiB / (100 x 3) rounds down to the floor
  const held = crowd.reduce((sum, share) => sum + 3 * share.size(), 3 * lone.size());
  assert.ok(held <= 20 * MiB, `${held} bytes`); // the floor's 64 KiB: 18.75 MiB
  for (const share of crowd) share.release();
  assert.equal(lone.size(), MiB);
  lone.release();
  lone.release(); // a second release changes nothing
  const next = claimBuffers(2, 256 * 1024);
  assert.equal(next.size(), 256 * 1024); // never above the transfer's own maximum
  next.release();
});

test("sizes are powers of two between 64 KiB and the maximum", () => {
  const shares = Array.from({ length: 10 }, () => claimBuffers(3, MiB));
  const size = shares[0]?.size() ?? 0;
  assert.equal(size & (size - 1), 0);
  assert.ok(size >= 64 * 1024 && size <= MiB);
  for (const share of shares) share.release();
});
