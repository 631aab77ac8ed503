// A GETTREE list of a thousand files in one folder checks each entry after the first by its
// name alone (`virtualChild`, tree-sender.ts's `#parentOf`). It must never accept what
// `normalizeVirtual` refuses, never give another path than it gives, and must take the
// common case (a plain name), or the shortcut would be dead code.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  MAX_NAME_BYTES,
  MAX_PATH_BYTES,
  normalizeVirtual,
  TEMP_PREFIX,
  virtualChild,
} from "../../src/server/sandbox.js";

/** What normalizeVirtual gives, or the code it throws. */
function full(cwd: string, input: string): { virtual: string } | { code: string } {
  try {
    return { virtual: normalizeVirtual(cwd, input) };
  } catch (err) {
    return { code: (err as { code: string }).code };
  }
}

/** Pieces paths are built from: separators, dots, the reserved prefix, forbidden units. */
const UNIT = fc.constantFrom(
  "a",
  "é",
  "/",
  ".",
  "..",
  "\\",
  "\u0000",
  "\u007f",
  "\u009f",
  "\ud800",
  "\udfff",
  "\ud83d\ude00",
  TEMP_PREFIX,
  "x".repeat(120),
  "€".repeat(40),
);

const CWD = fc.constantFrom("/", "/w", "/w/deep/er");

test("virtualChild gives normalizeVirtual's path, or leaves the entry to it", () => {
  let taken = 0;
  fc.assert(
    fc.property(
      CWD,
      fc.array(UNIT, { maxLength: 6 }),
      fc.array(UNIT, { maxLength: 4 }),
      (cwd, prefixUnits, nameUnits) => {
        // The entry before: the prefix and a plain name, normalised in full, as #parentOf does.
        const prefix = `${prefixUnits.join("")}/`;
        const before = full(cwd, `${prefix}x`);
        if (!("virtual" in before)) return;
        const dir = before.virtual.slice(0, before.virtual.lastIndexOf("/")) || "/";
        const input = `${prefix}${nameUnits.join("")}`;
        const quick = virtualChild(dir, input, prefix.length);
        if (quick === undefined) return;
        taken++;
        assert.deepEqual(full(cwd, input), { virtual: quick }, JSON.stringify(input));
      },
    ),
    { numRuns: 20_000 },
  );
  // About 1,000 of the 20,000 runs take it (a binomial count: 100 is some 29 deviations off).
  assert.ok(taken > 100, `the shortcut was taken ${taken} times`);
});

test("virtualChild: the cases by name", () => {
  assert.equal(virtualChild("/l", "/l/a.txt", 3), "/l/a.txt");
  assert.equal(virtualChild("/", "/a.txt", 1), "/a.txt");
  assert.equal(virtualChild("/w", "a.txt", 0), "/w/a.txt");
  assert.equal(virtualChild("/l", "/x/../l/a", 8), "/l/a");
  for (const name of ["", ".", "..", "a/b", "a\u0000", "a\\b", "\ud800", `${TEMP_PREFIX}part`]) {
    assert.equal(virtualChild("/l", `/l/${name}`, 3), undefined, JSON.stringify(name));
  }
  const longest = "x".repeat(MAX_NAME_BYTES);
  assert.equal(virtualChild("/l", `/l/${longest}`, 3), `/l/${longest}`);
  assert.equal(virtualChild("/l", `/l/${longest}x`, 3), undefined);
  // The input's own length and the result's are capped, as normalizeVirtual caps them.
  const deep = `/${"d/".repeat((MAX_PATH_BYTES - 10) / 2)}`;
  assert.equal(virtualChild("/d", `${deep}abcdefghijkl`, deep.length), undefined);
  const dir = `/${"y".repeat(200)}`.repeat(20);
  assert.ok(Buffer.byteLength(dir) < MAX_PATH_BYTES);
  assert.equal(virtualChild(dir, `/q/${"z".repeat(100)}`, 3), undefined);
});
