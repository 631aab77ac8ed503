import assert from "node:assert/strict";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { SORTED_LISTING_MAX } from "../../src/cli/listing-output.js";
import { runCli } from "../helpers/run-cli.js";
import { serveTempFolder, type ServedFolder } from "../helpers/serve-temp.js";

// Issue 11, item 7: `bftp ls` of a folder with 100,001 entries failed with
// BFTP_ERR_MESSAGE_TOO_LONG. The server streamed the listing; the CLI collected it whole in
// the client library, whose collecting mode stops at 100,000 entries. Now the CLI takes the
// entries batch by batch and prints a folder too large to sort as its entries arrive.

const ENTRIES = 100_001;
const BATCH = 2_000;

let folder: ServedFolder;

/** The name of entry `i`: fixed width, so the expected set is easy to rebuild. */
function nameOf(i: number): string {
  return `f${String(i).padStart(6, "0")}`;
}

before(async () => {
  folder = await serveTempFolder("bftp-cli-ls-large");
  await fs.mkdir(path.join(folder.served, "big"));
  for (let start = 0; start < ENTRIES; start += BATCH) {
    const end = Math.min(ENTRIES, start + BATCH);
    const made: Promise<void>[] = [];
    for (let i = start; i < end; i++) {
      made.push(fs.writeFile(path.join(folder.served, "big", nameOf(i)), ""));
    }
    await Promise.all(made);
  }
  // A folder just over the sort limit, with files of different sizes, for the --json check.
  await fs.mkdir(path.join(folder.served, "over"));
  await Promise.all(
    Array.from({ length: SORTED_LISTING_MAX + 1 }, (_, i) =>
      fs.writeFile(path.join(folder.served, "over", nameOf(i)), "x".repeat(i % 3)),
    ),
  );
});

after(async () => {
  await folder.stop();
});

test("issue-11: bftp ls of a 100,001-entry folder prints every name once", async () => {
  const result = await runCli(["ls", `${folder.url}/big`], { timeout: 60_000 });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, "");
  const lines = result.stdout.split("\n");
  assert.equal(lines.pop(), "", "the output ends with a newline");
  assert.equal(lines.length, ENTRIES);
  const seen = new Set<string>();
  for (const line of lines) {
    const match = /^- +0 \d{4}-\d{2}-\d{2} \d{2}:\d{2} (f\d{6})$/u.exec(line);
    assert.ok(match, `an ls -l line: ${JSON.stringify(line)}`);
    const name = match[1] ?? "";
    assert.ok(!seen.has(name), `${name} printed once`);
    seen.add(name);
  }
  for (let i = 0; i < ENTRIES; i++) assert.ok(seen.has(nameOf(i)), `${nameOf(i)} printed`);
});

test("issue-11: bftp ls --json of a folder past the sort limit is one document with every entry", async () => {
  const result = await runCli(["ls", "--json", `${folder.url}/over`], { timeout: 30_000 });
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.split("\n");
  assert.equal(lines.length, 2, "one line, then the final newline");
  assert.equal(lines[1], "");
  const doc = JSON.parse(lines[0] ?? "") as {
    ok: boolean;
    path: string;
    entries: { name: string; type: string; size: number; mtime: number }[];
  };
  assert.equal(doc.ok, true);
  assert.equal(doc.path, "/over");
  assert.equal(doc.entries.length, SORTED_LISTING_MAX + 1);
  const byName = new Map(doc.entries.map((e) => [e.name, e]));
  assert.equal(byName.size, SORTED_LISTING_MAX + 1, "every name once");
  for (let i = 0; i <= SORTED_LISTING_MAX; i++) {
    const entry = byName.get(nameOf(i));
    assert.ok(entry, `${nameOf(i)} listed`);
    assert.equal(entry.type, "file");
    assert.equal(entry.size, i % 3);
    assert.ok(Number.isInteger(entry.mtime));
  }
});

test("issue-11: a folder at the sort limit is still printed sorted by name", async () => {
  // The first SORTED_LISTING_MAX names of /over, moved aside, are a folder exactly at the limit.
  const at = path.join(folder.served, "at");
  await fs.mkdir(at);
  for (let i = SORTED_LISTING_MAX; i > 0; i -= BATCH) {
    const from = Math.max(0, i - BATCH);
    const moves: Promise<void>[] = [];
    for (let k = from; k < i; k++) {
      moves.push(fs.rename(path.join(folder.served, "over", nameOf(k)), path.join(at, nameOf(k))));
    }
    await Promise.all(moves);
  }
  const result = await runCli(["ls", `${folder.url}/at`], { timeout: 30_000 });
  assert.equal(result.code, 0, result.stderr);
  const names = result.stdout
    .trimEnd()
    .split("\n")
    .map((line) => line.split(" ").at(-1));
  assert.equal(names.length, SORTED_LISTING_MAX);
  assert.deepEqual(
    names,
    Array.from({ length: SORTED_LISTING_MAX }, (_, i) => nameOf(i)),
  );
  // Sizes are right-aligned in one column, as for any sorted listing.
  const lines = result.stdout.trimEnd().split("\n");
  assert.equal(new Set(lines.map((l) => l.indexOf(":"))).size, 1);
});
