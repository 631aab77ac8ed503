import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULT_SIZES, parseSize, parseSizeList, sizeLabel } from "../../src/bench/sizes.js";

// Issue 5, item 1: `bftp bench --sizes 0,1,4KiB,1MiB,100MiB`.

test("sizes take units in powers of 1024, spelt several ways", () => {
  const cases: [string, number][] = [
    ["0", 0],
    ["1", 1],
    ["4KiB", 4096],
    ["4k", 4096],
    ["4K", 4096],
    ["4kb", 4096],
    ["1MiB", 1048576],
    ["1m", 1048576],
    ["100MiB", 104857600],
    ["2GiB", 2 * 1024 ** 3],
    ["1.5MiB", 1572864],
    [" 8 KiB ", 8192],
  ];
  for (const [text, bytes] of cases) assert.equal(parseSize(text), bytes, text);
});

test("a size that is not a whole number of bytes, too large, or unreadable is explained", () => {
  for (const text of ["", "-1", "1.5", "0.3k", "4XiB", "KiB", "1e3", "17GiB", "4 MB/s"]) {
    assert.equal(typeof parseSize(text), "string", text);
  }
});

test("a list is sorted and without duplicates; one bad entry refuses it", () => {
  assert.deepEqual(parseSizeList("1MiB,0,1,4KiB,1m"), [0, 1, 4096, 1048576]);
  assert.throws(() => parseSizeList("1,2,x"), RangeError);
  assert.throws(() => parseSizeList("1,,2"), RangeError);
  assert.throws(
    () => parseSizeList(Array.from({ length: 33 }, (_, i) => String(i)).join(",")),
    RangeError,
  );
});

test("labels are exact where a unit divides the size", () => {
  assert.deepEqual([0, 1, 1000, 1024, 1536, 65536, 1048576, 104857600, 1025].map(sizeLabel), [
    "0 B",
    "1 B",
    "1000 B",
    "1 KiB",
    "1.5 KiB",
    "64 KiB",
    "1 MiB",
    "100 MiB",
    "1025 B",
  ]);
});

test("the default spread goes from empty and 1 byte to 100 MiB, ascending", () => {
  assert.equal(DEFAULT_SIZES[0], 0);
  assert.equal(DEFAULT_SIZES[1], 1);
  assert.equal(DEFAULT_SIZES[DEFAULT_SIZES.length - 1], 100 * 1024 ** 2);
  assert.deepEqual(
    [...DEFAULT_SIZES].sort((a, b) => a - b),
    DEFAULT_SIZES,
  );
});
