import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { jsonOf, runCli } from "../helpers/run-cli.js";
import { spawnServe, type ServeProcess } from "../helpers/spawn-serve.js";

// Issue 13, item 3 (CLI): `bftp get URL/a URL/b DIR`, the last argument a folder.

let base: string;
let served: string;
let work: string;
let serve: ServeProcess;
let url: string;
let other: ServeProcess;

before(async () => {
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-cli-get-many-")));
  served = path.join(base, "served");
  work = path.join(base, "work");
  await fs.mkdir(path.join(served, "sub"), { recursive: true });
  await fs.mkdir(work);
  for (const name of ["a.txt", "b.txt", "c.txt"]) {
    await fs.writeFile(path.join(served, name), `file ${name}\n`);
  }
  await fs.writeFile(path.join(served, "sub", "a.txt"), "another a\n");
  serve = await spawnServe(served);
  other = await spawnServe(served);
  url = `bftp://127.0.0.1:${serve.port}`;
});

after(async () => {
  await serve.stop();
  await other.stop();
  await fs.rm(base, { recursive: true, force: true });
});

const get = (...args: string[]) => runCli(["get", ...args], { cwd: work });

async function freshDir(name: string): Promise<string> {
  const dir = path.join(work, name);
  await fs.mkdir(dir);
  return dir;
}

test("several sources go into the folder given last, over one connection", async () => {
  const dir = await freshDir("all");
  const result = await get("--json", `${url}/a.txt`, `${url}/b.txt`, `${url}/c.txt`, dir);
  assert.equal(result.code, 0, result.stderr);
  for (const name of ["a.txt", "b.txt", "c.txt"]) {
    assert.equal(await fs.readFile(path.join(dir, name), "utf8"), `file ${name}\n`);
  }
  const doc = jsonOf(result);
  assert.equal(doc["ok"], true);
  assert.equal((doc["files"] as unknown[]).length, 3);
});

test("a destination that is not an existing folder is refused before any download", async () => {
  const missing = path.join(work, "no-such-folder");
  const result = await get(`${url}/a.txt`, `${url}/b.txt`, missing);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /\(BFTP_ERR_NOT_A_DIRECTORY\)\n$/);
  await assert.rejects(fs.stat(missing));
  await fs.writeFile(path.join(work, "plain-file"), "x");
  const file = await get(`${url}/a.txt`, `${url}/b.txt`, path.join(work, "plain-file"));
  assert.equal(file.code, 1);
  assert.match(file.stderr, /\(BFTP_ERR_NOT_A_DIRECTORY\)\n$/);
});

test("two sources with one name, two servers, -r or '-' are usage errors", async () => {
  const dir = await freshDir("refused");
  const otherUrl = `bftp://127.0.0.1:${other.port}`;
  const runs = [
    [`${url}/a.txt`, `${url}/sub/a.txt`, dir],
    [`${url}/a.txt`, `${otherUrl}/b.txt`, dir],
    ["-r", `${url}/a.txt`, `${url}/b.txt`, dir],
    [`${url}/a.txt`, `${url}/b.txt`, "-"],
  ];
  for (const args of runs) {
    const result = await get(...args);
    assert.equal(result.code, 2, args.join(" "));
    assert.match(result.stderr, /\(BFTP_ERR_INVALID_ARGUMENT\)\n$/);
  }
  assert.deepEqual(await fs.readdir(dir), []);
});

test("a missing source fails alone: the others arrive and the exit code says partial", async () => {
  const dir = await freshDir("partial");
  const result = await get("--json", `${url}/a.txt`, `${url}/missing.txt`, `${url}/c.txt`, dir);
  assert.equal(result.code, 5, result.stderr);
  assert.deepEqual((await fs.readdir(dir)).sort(), ["a.txt", "c.txt"]);
  const failed = jsonOf(result)["failed"] as { path: string; code: string }[];
  assert.deepEqual(
    failed.map((f) => [f.path, f.code]),
    [["/missing.txt", "BFTP_ERR_NOT_FOUND"]],
  );
});

test("existing local files are refused unless --overwrite, as for one file", async () => {
  const dir = await freshDir("clobber");
  await fs.writeFile(path.join(dir, "a.txt"), "mine");
  const refused = await get("--json", `${url}/a.txt`, `${url}/b.txt`, dir);
  assert.equal(refused.code, 5);
  const failed = jsonOf(refused)["failed"] as { path: string; code: string }[];
  assert.deepEqual(
    failed.map((f) => [f.path, f.code]),
    [["/a.txt", "BFTP_ERR_LOCAL_FILE"]],
  );
  assert.equal(await fs.readFile(path.join(dir, "b.txt"), "utf8"), "file b.txt\n");
  assert.equal(await fs.readFile(path.join(dir, "a.txt"), "utf8"), "mine");
  const replaced = await get("--overwrite", `${url}/a.txt`, `${url}/b.txt`, dir);
  assert.equal(replaced.code, 0, replaced.stderr);
  assert.equal(await fs.readFile(path.join(dir, "a.txt"), "utf8"), "file a.txt\n");
});
