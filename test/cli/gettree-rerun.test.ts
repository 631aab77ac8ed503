import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdirSync, statSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { throttleProxy } from "../fixtures/throttle-proxy.js";
import { jsonOf, runCli, startCli } from "../helpers/run-cli.js";
import { spawnServe, type ServeProcess } from "../helpers/spawn-serve.js";
import { waitUntil } from "../helpers/wait-until.js";

// Issue 13, item 1: `bftp get -r -c URL/tree dest`, interrupted and run again as it was,
// completes in the same target: every file the server's, nothing nested, no `.bftp-part`
// left, and the second run fetches only what was missing (GETTREE's have list, §8.13). The
// `NAME.bftp-part` partials a killed run leaves at the top of the target do not hide the copy
// it began. A throttling proxy keeps the first run going long enough to be killed midway,
// whatever the speed of the machine.

let base: string;
let serve: ServeProcess;
let url: string;
const FILES = new Map<string, Buffer>();
/** The top of the remote folder: large files there are in flight long enough to be cut. */
const TOP = ["d0", "d1", "d2", "d3", "top0.bin", "top1.bin", "top2.bin", "top3.bin"];

before(async () => {
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-gettree-rerun-")));
  for (let i = 0; i < 4; i++) FILES.set(`top${i}.bin`, randomBytes(400_000));
  for (let i = 0; i < 80; i++) FILES.set(`d${i % 4}/f${i}.bin`, randomBytes(4096));
  for (const [rel, bytes] of FILES) {
    await fs.mkdir(path.dirname(path.join(base, "served", "tree", rel)), { recursive: true });
    await fs.writeFile(path.join(base, "served", "tree", rel), bytes);
  }
  await fs.mkdir(path.join(base, "work"));
  serve = await spawnServe(path.join(base, "served"));
  url = `bftp://127.0.0.1:${serve.port}`;
});

after(async () => {
  await serve.stop();
  await fs.rm(base, { recursive: true, force: true });
});

interface Doc {
  readonly destination: string;
  readonly files: readonly { remote: string; local: string }[];
  readonly kept: readonly string[];
}

/** `bftp get --json -r -c URL/tree TARGET`, straight to the server; exit 0 asserted. */
async function rerun(target: string): Promise<Doc> {
  const result = await runCli(["get", "--json", "-r", "-c", `${url}/tree`, target], {
    timeout: 60_000,
  });
  assert.equal(result.code, 0, result.stderr);
  return jsonOf(result) as unknown as Doc;
}

/** Every entry below `dir`, relative, with `/`; none when it is missing. */
function entriesBelow(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, encoding: "utf8" }).map((e) =>
      e.split(path.sep).join("/"),
    );
  } catch {
    return [];
  }
}

/** Every file under its own name is the server's, byte for byte; returns them, sorted. */
async function completeFiles(target: string): Promise<string[]> {
  const complete: string[] = [];
  for (const name of entriesBelow(target)) {
    if ((await fs.lstat(path.join(target, name))).isDirectory()) continue;
    if (name.endsWith(".bftp-part")) continue; // a partial, never taken for the file
    const expected = FILES.get(name);
    assert.ok(expected !== undefined, `unexpected file ${name}`);
    assert.deepEqual(await fs.readFile(path.join(target, name)), expected, name);
    complete.push(name);
  }
  return complete.sort();
}

/** The whole copy is in `target` itself: nothing nested, no partial left. */
async function assertWholeCopy(target: string): Promise<void> {
  assert.deepEqual(await completeFiles(target), [...FILES.keys()].sort());
  assert.deepEqual((await fs.readdir(target)).sort(), TOP, "a copy nested in the target");
  const partials = entriesBelow(target).filter((e) => e.endsWith(".bftp-part"));
  assert.deepEqual(partials, [], "partials left behind");
}

const relative = (target: string, local: string): string =>
  path.relative(target, local).split(path.sep).join("/");

test("get -r -c killed midway, run again as it was, completes the same target", async () => {
  const proxy = await throttleProxy(serve.port, 512 * 1024);
  const target = path.join(base, "work", "killed");
  // A top file less than half in: the rest of the stream is still to come through the proxy.
  const topPartials = (): number =>
    entriesBelow(target).filter(
      (e) =>
        !e.includes("/") &&
        e.endsWith(".bftp-part") &&
        (statSync(path.join(target, e), { throwIfNoEntry: false })?.size ?? Infinity) < 200_000,
    ).length;
  try {
    const cli = startCli(["get", "-q", "-r", "-c", `bftp://127.0.0.1:${proxy.port}/tree`, target], {
      timeout: 60_000,
    });
    // Whatever order the server walks in, a large top file is in flight once two files are in
    // (at 512 KiB/s, each of the four is for about 0.8 s).
    await waitUntil(
      () => topPartials() > 0 && entriesBelow(target).filter((e) => FILES.has(e)).length >= 2,
      "two files have arrived and a top file is in flight",
      30_000,
    );
    cli.child.kill("SIGKILL");
    assert.equal((await cli.result).signal, "SIGKILL");
  } finally {
    await proxy.close();
  }
  const before = await completeFiles(target);
  assert.ok(before.length >= 2 && before.length < FILES.size, `${before.length} complete`);

  // The same command: the target is the copy the first run began, partials and all.
  const doc = await rerun(target);
  assert.equal(doc.destination, target);
  assert.deepEqual(doc.kept.map((k) => relative(target, k)).sort(), before, "kept");
  const fetched = doc.files.map((f) => relative(target, f.local)).sort();
  assert.equal(fetched.length, FILES.size - before.length, "fetched only what was missing");
  assert.ok(!fetched.some((f) => before.includes(f)), "a complete file was fetched again");
  await assertWholeCopy(target);

  // A third run has nothing to fetch.
  const third = await rerun(target);
  assert.deepEqual(
    [third.destination, third.files.length, third.kept.length],
    [target, 0, FILES.size],
  );
  await assertWholeCopy(target);
});

test("partials at the top, and one left beside a complete file, do not defeat the rule", async () => {
  // What a killed run leaves, built by hand: complete files, the partial of a file cut short
  // at the top, and a partial beside a file given its name just before the kill.
  const target = path.join(base, "work", "partials");
  const missing = new Set(["top1.bin", "d2/f2.bin"]);
  for (const [rel, bytes] of FILES) {
    await fs.mkdir(path.dirname(path.join(target, rel)), { recursive: true });
    const file = path.join(target, rel);
    if (missing.has(rel)) await fs.writeFile(`${file}.bftp-part`, bytes.subarray(0, 1000));
    else await fs.writeFile(file, bytes);
  }
  await fs.writeFile(path.join(target, "top3.bin.bftp-part"), randomBytes(100));

  const doc = await rerun(target);
  assert.equal(doc.destination, target);
  assert.deepEqual(doc.files.map((f) => relative(target, f.local)).sort(), [...missing].sort());
  assert.equal(doc.kept.length, FILES.size - missing.size);
  await assertWholeCopy(target);
});

test("an existing folder holding anything else receives the copy inside it, again on a re-run", async () => {
  const target = path.join(base, "work", "backup");
  await fs.mkdir(target);
  await fs.writeFile(path.join(target, "notes.txt"), "not part of the copy\n");
  const first = await rerun(target);
  assert.equal(first.destination, path.join(target, "tree"));
  assert.equal(first.files.length, FILES.size);
  const again = await rerun(target);
  assert.equal(again.destination, path.join(target, "tree"));
  assert.deepEqual([again.files.length, again.kept.length], [0, FILES.size]);
  assert.deepEqual((await fs.readdir(target)).sort(), ["notes.txt", "tree"]);
  await assertWholeCopy(path.join(target, "tree"));
});
