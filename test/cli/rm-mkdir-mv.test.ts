import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { jsonOf, runCli } from "../helpers/run-cli.js";
import { spawnServe, type ServeProcess } from "../helpers/spawn-serve.js";

// Issue 4, item 3: the commands that change the remote tree: rm, mkdir, rmdir, mv.

let base: string;
let served: string;
let serve: ServeProcess;
let url: string;

before(async () => {
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-cli-rm-")));
  served = path.join(base, "served");
  await fs.mkdir(served);
  serve = await spawnServe(served);
  url = `bftp://127.0.0.1:${serve.port}`;
});

after(async () => {
  await serve.stop();
  await fs.rm(base, { recursive: true, force: true });
});

const exists = (name: string) =>
  fs.lstat(path.join(served, name)).then(
    () => true,
    () => false,
  );
const code = (result: { stdout: string }) => (jsonOf(result)["error"] as { code: string }).code;

test("rm deletes a file; a folder or a missing file is exit 1", async () => {
  await fs.writeFile(path.join(served, "gone.txt"), "x");
  const result = await runCli(["rm", `${url}/gone.txt`]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "removed /gone.txt\n");
  assert.equal(await exists("gone.txt"), false);
  const again = await runCli(["rm", "--json", `${url}/gone.txt`]);
  assert.equal(again.code, 1);
  assert.equal(code(again), "BFTP_ERR_NOT_FOUND");
  await fs.mkdir(path.join(served, "adir"));
  const dir = await runCli(["rm", `${url}/adir`]);
  assert.equal(dir.code, 1);
  assert.match(dir.stderr, /rmdir/);
  assert.equal(await exists("adir"), true);
});

test("mkdir creates a folder; -p creates parents; a missing parent is exit 1", async () => {
  const one = await runCli(["mkdir", "--json", `${url}/made`]);
  assert.equal(one.code, 0, one.stderr);
  assert.deepEqual(jsonOf(one), { ok: true, path: "/made" });
  assert.ok((await fs.stat(path.join(served, "made"))).isDirectory());
  const deep = await runCli(["mkdir", `${url}/a/b/c`]);
  assert.equal(deep.code, 1);
  assert.match(deep.stderr, /-p/);
  const parents = await runCli(["mkdir", "-p", `${url}/a/b/c`]);
  assert.equal(parents.code, 0, parents.stderr);
  assert.equal(parents.stdout, "created /a/b/c\n");
  assert.ok((await fs.stat(path.join(served, "a", "b", "c"))).isDirectory());
  const twice = await runCli(["mkdir", "-p", "-q", `${url}/a/b/c`]);
  assert.equal(twice.code, 0, "mkdir -p of an existing folder is fine");
  assert.equal(twice.stdout, "");
  const exists1 = await runCli(["mkdir", "--json", `${url}/made`]);
  assert.equal(exists1.code, 1);
  assert.equal(code(exists1), "BFTP_ERR_EXISTS");
});

test("rmdir removes an empty folder; a folder with contents is exit 1", async () => {
  await fs.mkdir(path.join(served, "full", "inner"), { recursive: true });
  const full = await runCli(["rmdir", "--json", `${url}/full`]);
  assert.equal(full.code, 1);
  assert.equal(code(full), "BFTP_ERR_NOT_EMPTY");
  const inner = await runCli(["rmdir", `${url}/full/inner`]);
  assert.equal(inner.code, 0, inner.stderr);
  assert.equal(inner.stdout, "removed folder /full/inner\n");
  assert.equal(await exists("full/inner"), false);
});

test("mv renames relative to the source's folder, or to an absolute path", async () => {
  await fs.mkdir(path.join(served, "docs"));
  await fs.writeFile(path.join(served, "docs", "draft.txt"), "draft");
  const relative = await runCli(["mv", `${url}/docs/draft.txt`, "final.txt"]);
  assert.equal(relative.code, 0, relative.stderr);
  assert.equal(relative.stdout, "moved /docs/draft.txt to /docs/final.txt\n");
  assert.equal(await fs.readFile(path.join(served, "docs", "final.txt"), "utf8"), "draft");
  const absolute = await runCli(["mv", "--json", `${url}/docs/final.txt`, "/top.txt"]);
  assert.equal(absolute.code, 0, absolute.stderr);
  assert.deepEqual(jsonOf(absolute), { ok: true, from: "/docs/final.txt", to: "/top.txt" });
  assert.equal(await exists("top.txt"), true);
});

test("mv into an existing folder keeps the name; a location on the same server works", async () => {
  await fs.mkdir(path.join(served, "archive"));
  await fs.writeFile(path.join(served, "report.txt"), "r");
  const into = await runCli(["mv", `${url}/report.txt`, "/archive"]);
  assert.equal(into.code, 0, into.stderr);
  assert.equal(await exists("archive/report.txt"), true);
  const located = await runCli(["mv", `${url}/archive/report.txt`, `${url}/report2.txt`]);
  assert.equal(located.code, 0, located.stderr);
  assert.equal(await exists("report2.txt"), true);
});

test("mv refuses to replace a file without --overwrite, and across servers", async () => {
  await fs.writeFile(path.join(served, "one.txt"), "1");
  await fs.writeFile(path.join(served, "two.txt"), "2");
  const refused = await runCli(["mv", `${url}/one.txt`, "two.txt"]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /--overwrite.*\(BFTP_ERR_EXISTS\)\n$/);
  assert.equal(await fs.readFile(path.join(served, "two.txt"), "utf8"), "2");
  const forced = await runCli(["mv", "--overwrite", `${url}/one.txt`, "two.txt"]);
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(await fs.readFile(path.join(served, "two.txt"), "utf8"), "1");
  const across = await runCli(["mv", `${url}/two.txt`, "bftp://elsewhere.invalid/two.txt"]);
  assert.equal(across.code, 2);
  assert.match(across.stderr, /get and bftp put/);
});
