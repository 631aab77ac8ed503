import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { jsonOf, runCli } from "../helpers/run-cli.js";
import { spawnServe, type ServeProcess } from "../helpers/spawn-serve.js";

// Issue 4, item 3: recursive copies follow `cp -r` and `scp -r`: a destination that does not
// exist becomes the copy of the source folder; an existing one receives it inside.

let base: string;
let served: string;
let serve: ServeProcess;
let url: string;

/** The tree copied both ways: nested folders, an empty one, a name with a space. */
const TREE: Readonly<Record<string, string | Buffer>> = {
  "top.txt": "top\n",
  "a/one.txt": "one\n",
  "a/b/two.txt": "two\n",
  "a/b/c/three.bin": Buffer.alloc(300_000, 3),
  "with space/four.txt": "four\n",
};

/** Writes TREE under `dir`, with an empty folder `empty/`. */
async function writeTree(dir: string): Promise<void> {
  for (const [name, content] of Object.entries(TREE)) {
    await fs.mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await fs.writeFile(path.join(dir, name), content);
  }
  await fs.mkdir(path.join(dir, "empty"), { recursive: true });
}

/** Every file under `dir` with the sha256 of its content, and every folder, sorted. */
async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    const full = path.join(entry.parentPath, entry.name);
    const rel = path.relative(dir, full).split(path.sep).join("/");
    if (entry.isDirectory()) out.push(`${rel}/`);
    else {
      const hash = createHash("sha256")
        .update(await fs.readFile(full))
        .digest("hex");
      out.push(`${rel} ${hash}`);
    }
  }
  return out.sort();
}

let expected: string[];

before(async () => {
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-cli-rec-")));
  served = path.join(base, "served");
  await writeTree(path.join(served, "src"));
  await writeTree(path.join(base, "local", "src"));
  expected = await snapshot(path.join(served, "src"));
  serve = await spawnServe(served);
  url = `bftp://127.0.0.1:${serve.port}`;
});

after(async () => {
  await serve.stop();
  await fs.rm(base, { recursive: true, force: true });
});

test("get -r to a missing folder: it becomes the copy", async () => {
  const work = path.join(base, "get-missing");
  await fs.mkdir(work);
  const result = await runCli(["get", "-r", `${url}/src`, "copy"], { cwd: work });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(await snapshot(path.join(work, "copy")), expected);
  assert.deepEqual(await fs.readdir(work), ["copy"]);
  assert.match(result.stdout, /^copied 5 files to copy \(.+\)\n$/);
});

test("get -r to an existing folder: it receives the copy under the source's name", async () => {
  const work = path.join(base, "get-existing");
  await fs.mkdir(path.join(work, "backup"), { recursive: true });
  const result = await runCli(["get", "-r", "--json", `${url}/src`, "backup"], { cwd: work });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(await fs.readdir(path.join(work, "backup")), ["src"]);
  assert.deepEqual(await snapshot(path.join(work, "backup", "src")), expected);
  const doc = jsonOf(result);
  assert.equal(doc["ok"], true);
  assert.equal(doc["destination"], path.join("backup", "src"));
  const files = doc["files"] as { remote: string; local: string }[];
  assert.equal(files.length, 5);
  assert.ok(
    files.some(
      (f) =>
        f.remote === "/src/a/b/c/three.bin" &&
        f.local === path.join("backup", "src", "a", "b", "c", "three.bin"),
    ),
  );
  // With no LOCAL, the current folder is the existing destination.
  const here = await runCli(["get", "-r", "-q", `${url}/src/a`], { cwd: work });
  assert.equal(here.code, 0, here.stderr);
  assert.deepEqual(await fs.readdir(path.join(work, "a", "b", "c")), ["three.bin"]);
});

test("get -r again: existing files fail (exit 5); -c keeps them; --overwrite replaces", async () => {
  const work = path.join(base, "get-again");
  await fs.mkdir(path.join(work, "backup"), { recursive: true });
  const get = (...flags: string[]) =>
    runCli(["get", "-r", "--json", ...flags, `${url}/src`, "backup"], { cwd: work });
  assert.equal((await get()).code, 0);
  const again = await get();
  assert.equal(again.code, 5, "a partly failed recursive transfer");
  const failed = jsonOf(again)["failed"] as { code: string }[];
  assert.equal(failed.length, 5);
  assert.ok(failed.every((f) => f.code === "BFTP_ERR_LOCAL_FILE"));
  const resumed = await get("-c");
  assert.equal(resumed.code, 0, resumed.stdout);
  assert.equal((jsonOf(resumed)["kept"] as string[]).length, 5);
  const replaced = await get("--overwrite");
  assert.equal(replaced.code, 0, replaced.stdout);
  assert.equal((jsonOf(replaced)["files"] as unknown[]).length, 5);
  assert.deepEqual(await fs.readdir(path.join(work, "backup")), ["src"]);
  assert.deepEqual(await snapshot(path.join(work, "backup", "src")), expected);
});

test("put -r to a missing remote folder: it becomes the copy", async () => {
  const result = await runCli(["put", "-r", path.join(base, "local", "src"), `${url}/up/new`]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(await snapshot(path.join(served, "up", "new")), expected);
  assert.match(result.stdout, /^copied 5 files to \/up\/new \(.+\)\n$/);
});

test("put -r to an existing remote folder: it receives the copy under the source's name", async () => {
  await fs.mkdir(path.join(served, "existing"));
  const result = await runCli(["put", "-r", "--json", "src", `${url}/existing`], {
    cwd: path.join(base, "local"),
  });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(await fs.readdir(path.join(served, "existing")), ["src"]);
  assert.deepEqual(await snapshot(path.join(served, "existing", "src")), expected);
  const doc = jsonOf(result);
  assert.equal(doc["destination"], "/existing/src");
  assert.equal((doc["files"] as unknown[]).length, 5);
  assert.equal(doc["bytes"], 300_000 + 4 + 4 + 4 + 5);
});

test("put -r -c again: identical files count as done, changed ones fail (exit 5)", async () => {
  const local = path.join(base, "local");
  const put = (...flags: string[]) =>
    runCli(["put", "-r", "--json", ...flags, "src", `${url}/twice`], { cwd: local });
  assert.equal((await put()).code, 0);
  assert.equal((await put()).code, 0, "twice exists now: the copy goes to /twice/src");
  const again = await put("-c");
  assert.equal(again.code, 0, again.stdout);
  assert.equal((jsonOf(again)["kept"] as string[]).length, 5);
  await fs.writeFile(path.join(local, "src", "top.txt"), "changed\n");
  try {
    const changed = await put("-c");
    assert.equal(changed.code, 5, changed.stdout);
    const doc = jsonOf(changed);
    assert.deepEqual(
      (doc["failed"] as { path: string; code: string }[]).map((f) => [f.path, f.code]),
      [["/twice/src/top.txt", "BFTP_ERR_EXISTS"]],
    );
    assert.equal((doc["kept"] as string[]).length, 4);
  } finally {
    await fs.writeFile(path.join(local, "src", "top.txt"), "top\n");
  }
});

test("put -r onto a remote file is refused (exit 1); -r on a single file copies it", async () => {
  await fs.writeFile(path.join(served, "plain.txt"), "plain");
  const onto = await runCli(["put", "-r", "--json", "src", `${url}/plain.txt`], {
    cwd: path.join(base, "local"),
  });
  assert.equal(onto.code, 1);
  assert.equal((jsonOf(onto)["error"] as { code: string }).code, "BFTP_ERR_NOT_A_DIRECTORY");
  const single = await runCli(["put", "-r", "src/top.txt", `${url}/single.txt`], {
    cwd: path.join(base, "local"),
  });
  assert.equal(single.code, 0, single.stderr);
  assert.equal(await fs.readFile(path.join(served, "single.txt"), "utf8"), "top\n");
});
