import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { jsonOf, runCli } from "../helpers/run-cli.js";
import { spawnServe, type ServeProcess } from "../helpers/spawn-serve.js";

// Issue 13, item 3 (CLI): `bftp put a b c URL/dir/`, several local sources (the shell already
// expanded *.txt) into one remote folder, by the rules of a single put.

let base: string;
let served: string;
let work: string;
let serve: ServeProcess;
let url: string;

before(async () => {
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-cli-put-many-")));
  served = path.join(base, "served");
  work = path.join(base, "work");
  await fs.mkdir(path.join(served, "inbox"), { recursive: true });
  await fs.writeFile(path.join(served, "plain.txt"), "not a folder\n");
  await fs.mkdir(path.join(work, "tree", "sub"), { recursive: true });
  await fs.mkdir(path.join(work, "other"), { recursive: true });
  for (const name of ["a.txt", "b.txt", "c.txt"]) {
    await fs.writeFile(path.join(work, name), `local ${name}\n`);
  }
  await fs.writeFile(path.join(work, "other", "a.txt"), "a second a\n");
  await fs.writeFile(path.join(work, "tree", "t.txt"), "in the tree\n");
  await fs.writeFile(path.join(work, "tree", "sub", "deep.txt"), "deep\n");
  serve = await spawnServe(served);
  url = `bftp://127.0.0.1:${serve.port}`;
});

after(async () => {
  await serve.stop();
  await fs.rm(base, { recursive: true, force: true });
});

const put = (...args: string[]) => runCli(["put", ...args], { cwd: work });
const remote = (name: string) => fs.readFile(path.join(served, name), "utf8");

async function remoteFolder(name: string): Promise<string> {
  await fs.mkdir(path.join(served, name));
  return `${url}/${name}`;
}

test("several files go into an existing folder, with or without a trailing slash", async () => {
  const slash = await remoteFolder("slash");
  const result = await put("--json", "a.txt", "b.txt", "c.txt", `${slash}/`);
  assert.equal(result.code, 0, result.stderr);
  for (const name of ["a.txt", "b.txt", "c.txt"]) {
    assert.equal(await remote(`slash/${name}`), `local ${name}\n`);
  }
  const doc = jsonOf(result);
  assert.equal(doc["ok"], true);
  assert.equal(doc["destination"], "/slash/");
  assert.deepEqual((doc["files"] as { remote: string }[]).map((f) => f.remote).sort(), [
    "/slash/a.txt",
    "/slash/b.txt",
    "/slash/c.txt",
  ]);
  const bare = await remoteFolder("bare");
  const plain = await put("a.txt", "b.txt", bare);
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /^copied 2 files to \/bare \(/);
  assert.deepEqual((await fs.readdir(path.join(served, "bare"))).sort(), ["a.txt", "b.txt"]);
});

test("a missing folder written with a trailing slash is created, parents too", async () => {
  const result = await put("a.txt", "b.txt", `${url}/made/deeper/`);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual((await fs.readdir(path.join(served, "made", "deeper"))).sort(), [
    "a.txt",
    "b.txt",
  ]);
});

test("a target that is not a folder is refused before any byte is sent", async () => {
  for (const target of [`${url}/missing`, `${url}/plain.txt`, `${url}/plain.txt/`]) {
    const result = await put("--json", "a.txt", "b.txt", target);
    assert.equal(result.code, 1, target);
    assert.equal(
      (jsonOf(result)["error"] as { code: string }).code,
      "BFTP_ERR_NOT_A_DIRECTORY",
      target,
    );
  }
  await assert.rejects(fs.stat(path.join(served, "missing")));
  assert.equal(await remote("plain.txt"), "not a folder\n");
});

test("a folder without -r, two sources with one name, and '-' are usage errors", async () => {
  const dir = await remoteFolder("usage");
  for (const args of [
    ["a.txt", "tree", `${dir}/`],
    ["a.txt", "other/a.txt", `${dir}/`],
    ["a.txt", "-", `${dir}/`],
  ]) {
    const result = await put(...args);
    assert.equal(result.code, 2, args.join(" "));
    assert.match(result.stderr, /\(BFTP_ERR_INVALID_ARGUMENT\)\n$/);
  }
  const alone = await put(`${dir}/`);
  assert.equal(alone.code, 2);
  assert.deepEqual(await fs.readdir(path.join(served, "usage")), []);
});

test("with -r, folders among the sources are copied under their own names", async () => {
  const dir = await remoteFolder("mixed");
  const result = await put("-r", "--json", "a.txt", "tree", `${dir}/`);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(await remote("mixed/a.txt"), "local a.txt\n");
  assert.equal(await remote("mixed/tree/t.txt"), "in the tree\n");
  assert.equal(await remote("mixed/tree/sub/deep.txt"), "deep\n");
  assert.equal((jsonOf(result)["files"] as unknown[]).length, 3);
});

test("a missing source fails alone: the others arrive and the exit code says partial", async () => {
  const dir = await remoteFolder("partial");
  const result = await put("--json", "a.txt", "nothing.txt", "c.txt", `${dir}/`);
  assert.equal(result.code, 5, result.stderr);
  assert.deepEqual((await fs.readdir(path.join(served, "partial"))).sort(), ["a.txt", "c.txt"]);
  const failed = jsonOf(result)["failed"] as { path: string; code: string }[];
  assert.deepEqual(
    failed.map((f) => [f.path, f.code]),
    [["nothing.txt", "BFTP_ERR_LOCAL_FILE"]],
  );
});

test("existing remote files are refused unless --overwrite; -c counts identical ones as done", async () => {
  const dir = await remoteFolder("clobber");
  await fs.writeFile(path.join(served, "clobber", "a.txt"), "theirs\n");
  await fs.writeFile(path.join(served, "clobber", "b.txt"), "local b.txt\n");
  const refused = await put("--json", "a.txt", "b.txt", "c.txt", `${dir}/`);
  assert.equal(refused.code, 5);
  assert.deepEqual(
    (jsonOf(refused)["failed"] as { path: string; code: string }[])
      .map((f) => [f.path, f.code])
      .sort(),
    [
      ["/clobber/a.txt", "BFTP_ERR_EXISTS"],
      ["/clobber/b.txt", "BFTP_ERR_EXISTS"],
    ],
  );
  assert.equal(await remote("clobber/a.txt"), "theirs\n");
  assert.equal(await remote("clobber/c.txt"), "local c.txt\n");

  const resumed = await put("--json", "-c", "b.txt", "c.txt", `${dir}/`);
  assert.equal(resumed.code, 0, resumed.stdout);
  assert.deepEqual((jsonOf(resumed)["kept"] as string[]).sort(), [
    "/clobber/b.txt",
    "/clobber/c.txt",
  ]);
  const differs = await put("--json", "-c", "a.txt", "b.txt", `${dir}/`);
  assert.equal(differs.code, 5);
  assert.deepEqual(
    (jsonOf(differs)["failed"] as { path: string; code: string }[]).map((f) => [f.path, f.code]),
    [["/clobber/a.txt", "BFTP_ERR_EXISTS"]],
  );

  const replaced = await put("--overwrite", "a.txt", "b.txt", `${dir}/`);
  assert.equal(replaced.code, 0, replaced.stderr);
  assert.equal(await remote("clobber/a.txt"), "local a.txt\n");
});

test("a remote folder with a source's name is refused as a single put refuses it", async () => {
  const dir = await remoteFolder("named");
  await fs.mkdir(path.join(served, "named", "b.txt"));
  const result = await put("--json", "a.txt", "b.txt", `${dir}/`);
  assert.equal(result.code, 5);
  assert.deepEqual(
    (jsonOf(result)["failed"] as { path: string; code: string }[]).map((f) => [f.path, f.code]),
    [["/named/b.txt", "BFTP_ERR_IS_A_DIRECTORY"]],
  );
  assert.equal(await remote("named/a.txt"), "local a.txt\n");
});
