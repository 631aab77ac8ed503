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

test("a rotation that can make do with one buffer buys larger buffers, not more, in a crowd", () => {
  const lone = claimBuffers(4, MiB, 1);
  assert.deepEqual([lone.size(), lone.count()], [MiB, 4]); // a quiet server: 4 x 1 MiB
  const few = Array.from({ length: 7 }, () => claimBuffers(4, MiB, 1));
  assert.deepEqual([lone.size(), lone.count()], [MiB, 2]); // 8 at once: 2 MiB each
  const crowd = Array.from({ length: 92 }, () => claimBuffers(4, MiB, 1));
  assert.deepEqual([lone.size(), lone.count()], [128 * 1024, 1]); // 100: 160 KiB each
  const fixed = claimBuffers(4, MiB); // one that needs all four: a quarter of its share each
  assert.deepEqual([fixed.size(), fixed.count()], [64 * 1024, 4]);
  fixed.release();
  for (const share of [...few, ...crowd]) share.release();
  assert.deepEqual([lone.size(), lone.count()], [MiB, 4]);
  lone.release();
});

test("however many rotations run, what they hold stays within the budget until the 64 KiB floor", () => {
  for (const n of [1, 2, 3, 5, 8, 13, 16, 17, 31, 64, 100, 128, 200, 255, 256]) {
    const shares = Array.from({ length: n }, () => claimBuffers(4, MiB, 1));
    const held = shares.reduce((sum, share) => sum + share.size() * share.count(), 0);
    assert.ok(held <= 16 * MiB, `${n} rotations hold ${held} bytes`);
    for (const share of shares) {
      assert.ok(share.count() >= 1 && share.count() <= 4);
      assert.ok(share.size() >= 64 * 1024 && share.size() <= MiB);
    }
    for (const share of shares) share.release();
  }
});

test("least must be a whole number from 1 to the buffers", () => {
  for (const least of [0, 5, 1.5, Number.NaN])
    assert.throws(() => claimBuffers(4, MiB, least), { name: "RangeError" });
});

test("a floor keeps a crowd's buffers at least that large, never above the maximum", () => {
  const KiB = 1024;
  const lone = claimBuffers(4, MiB, 1, 256 * KiB);
  assert.deepEqual([lone.size(), lone.count()], [MiB, 4]); // alone, as without a floor
  const crowd = Array.from({ length: 99 }, () => claimBuffers(4, MiB, 1, 256 * KiB));
  // 100 at once: 160 KiB each would be 128 KiB without the floor; with it, 256 KiB, one each
  // (more than the budget: the arena makes them take turns, transfer-arena.ts).
  assert.deepEqual([lone.size(), lone.count()], [256 * KiB, 1]);
  const small = claimBuffers(4, 128 * KiB, 1, 256 * KiB);
  assert.equal(small.size(), 128 * KiB, "capped by the transfer's own maximum");
  for (const share of [...crowd, small]) share.release();
  assert.deepEqual([lone.size(), lone.count()], [MiB, 4]);
  lone.release();
});
