import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { partialName } from "../../src/client/partial-name.js";
import { isBegunCopy, removeLeftPartials } from "../../src/cli/continued-tree.js";

// Issue 13, item 1: the rule that tells a re-run of `get -r -c` or `put -r -c` that its target
// is the copy a first run began (continue it in place) rather than a folder to receive a copy
// under the source's name; and the sweep of partials a killed download left beside files the
// re-run found complete.

let base: string;

before(async () => {
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-continued-tree-")));
});

after(async () => {
  await fs.rm(base, { recursive: true, force: true });
});

const SOURCE = ["a.txt", "b.bin", "sub", "c"];

test("a target holding only names of the source is the copy begun", () => {
  assert.equal(isBegunCopy(["a.txt"], SOURCE), true);
  assert.equal(isBegunCopy(["sub", "a.txt", "b.bin", "c"], SOURCE), true);
});

test("an empty target, or one holding any other name, receives the copy inside it", () => {
  assert.equal(isBegunCopy([], SOURCE), false);
  assert.equal(isBegunCopy([], []), false);
  assert.equal(isBegunCopy(["a.txt", "other.txt"], SOURCE), false);
  assert.equal(isBegunCopy(["A.TXT"], SOURCE), false, "names compare exactly");
  assert.equal(isBegunCopy(["a.txt"], []), false);
});

test("partials count as their files only when asked (a download's local target)", () => {
  const target = ["a.txt", "b.bin.bftp-part"];
  assert.equal(isBegunCopy(target, SOURCE, { partials: true }), true);
  assert.equal(isBegunCopy(target, SOURCE), false, "a remote NAME.bftp-part is a file like any");
  assert.equal(
    isBegunCopy(["x.bftp-part"], SOURCE, { partials: true }),
    false,
    "the partial of a file the source does not hold",
  );
  assert.equal(isBegunCopy(["a.txt.bftp-part"], SOURCE, { partials: true }), true);
});

test("the shortened partial of a long name counts as its file", () => {
  const long = `${"é".repeat(123)}.bin`; // 250 bytes: too long for the suffix
  const part = partialName(long);
  assert.notEqual(part, `${long}.bftp-part`);
  assert.equal(isBegunCopy([part], [long], { partials: true }), true);
  assert.equal(isBegunCopy([`${long}.bftp-part`], [long], { partials: true }), false);
});

test("removeLeftPartials removes the partial beside each file, and nothing else", async () => {
  const dir = path.join(base, "sweep");
  await fs.mkdir(path.join(dir, "sub"), { recursive: true });
  const long = "x".repeat(250);
  const files = ["a.txt", "sub/b.txt", "sub/c.txt", long].map((f) => path.join(dir, f));
  for (const file of files) await fs.writeFile(file, "complete\n");
  // Partials of a.txt, sub/b.txt and the long name; c.txt has none.
  const parts = [
    path.join(dir, "a.txt.bftp-part"),
    path.join(dir, "sub", "b.txt.bftp-part"),
    path.join(dir, partialName(long)),
  ];
  for (const part of parts) await fs.writeFile(part, "half");
  // Not the partial of a file given: left alone.
  await fs.writeFile(path.join(dir, "other.txt.bftp-part"), "half");
  // A folder under a partial's name is not a partial: left alone.
  await fs.mkdir(path.join(dir, "sub", "c.txt.bftp-part"));

  await removeLeftPartials(files);

  assert.deepEqual((await fs.readdir(dir)).sort(), ["a.txt", "other.txt.bftp-part", "sub", long]);
  assert.deepEqual((await fs.readdir(path.join(dir, "sub"))).sort(), [
    "b.txt",
    "c.txt",
    "c.txt.bftp-part",
  ]);
  for (const file of files) assert.equal(await fs.readFile(file, "utf8"), "complete\n");
});

test("removeLeftPartials with no files, or in a folder that is gone, does nothing", async () => {
  await removeLeftPartials([]);
  await removeLeftPartials([path.join(base, "gone", "a.txt")]);
});
