// Issue 12: isRecordPath is checked once per file of every tree, so it is a single pass over
// the path's UTF-16 units. It must accept exactly what PROTOCOL.md §7.4's rule (and the
// regular expression it replaced, kept here as the reference) accepts.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { isRecordPath, MAX_RECORD_PATH } from "../../src/protocol/tree-records.js";

/** The former definition, word for word: the reference. */
function reference(rel: string): boolean {
  // eslint-disable-next-line no-control-regex -- the rule forbids control characters
  const forbidden = /[\u0000-\u001f\u007f-\u009f\\\ud800-\udfff]/u;
  if (rel === "" || forbidden.test(rel) || Buffer.byteLength(rel) > MAX_RECORD_PATH) return false;
  for (const name of rel.split("/")) {
    if (name === "" || name === "." || name === "..") return false;
  }
  return true;
}

/** Units a path is built from: the separators, dots, the forbidden ranges' edges, surrogates. */
const UNIT = fc.constantFrom(
  "a",
  "Z",
  "é",
  "€",
  "/",
  ".",
  "\\",
  "\u0000",
  "\u001f",
  " ",
  "~",
  "\u007e",
  "\u007f",
  "\u009f",
  "\u00a0",
  "\ud800",
  "\udbff",
  "\udc00",
  "\udfff",
  "\ud83d\ude00",
  "\uffff",
  "-",
);

test("isRecordPath accepts exactly what the former regular expression accepted", () => {
  fc.assert(
    fc.property(fc.array(UNIT, { maxLength: 12 }), (units) => {
      const rel = units.join("");
      assert.equal(isRecordPath(rel), reference(rel), JSON.stringify(rel));
    }),
    { numRuns: 20_000 },
  );
  fc.assert(
    fc.property(fc.string({ unit: "binary", maxLength: 40 }), (rel) => {
      assert.equal(isRecordPath(rel), reference(rel), JSON.stringify(rel));
    }),
    { numRuns: 5_000 },
  );
});

test("isRecordPath: the cases by name, and the 4096-byte limit counted in UTF-8", () => {
  const cases: [string, boolean][] = [
    ["a", true],
    ["a/b/c.txt", true],
    [".hidden/..x/x..", true],
    ["", false],
    ["/a", false],
    ["a/", false],
    ["a//b", false],
    [".", false],
    ["..", false],
    ["a/./b", false],
    ["a/../b", false],
    ["a\\b", false],
    ["a\nb", false],
    ["a\u0085b", false],
    ["smile\ud83d\ude00", true],
    ["lone\ud83d", false],
    ["lone\ude00x", false],
    ["a".repeat(MAX_RECORD_PATH), true],
    ["a".repeat(MAX_RECORD_PATH + 1), false],
    ["€".repeat(Math.floor(MAX_RECORD_PATH / 3)), true],
    ["€".repeat(Math.floor(MAX_RECORD_PATH / 3) + 1), false], // 4098 bytes in 1366 units
  ];
  for (const [rel, ok] of cases) {
    assert.equal(isRecordPath(rel), ok, JSON.stringify(rel.slice(0, 20)));
    assert.equal(reference(rel), ok, `reference: ${JSON.stringify(rel.slice(0, 20))}`);
  }
});
