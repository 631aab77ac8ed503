import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import zlib from "node:zlib";
import { jsonOf, runCli } from "../helpers/run-cli.js";
import { spawnServe, type ServeProcess } from "../helpers/spawn-serve.js";

// Issue 4, item 3: `bftp get REMOTE [LOCAL]`, no-clobber by default, --overwrite, --json.

let base: string;
let served: string;
let serve: ServeProcess;
let url: string;

before(async () => {
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-cli-get-")));
  served = path.join(base, "served");
  await fs.mkdir(path.join(served, "docs"), { recursive: true });
  await fs.writeFile(path.join(served, "docs", "report.txt"), "the report\n");
  await fs.writeFile(path.join(served, "with space.txt"), "spaced\n");
  serve = await spawnServe(served);
  url = `bftp://127.0.0.1:${serve.port}`;
});

after(async () => {
  await serve.stop();
  await fs.rm(base, { recursive: true, force: true });
});

/** A fresh empty working folder. */
async function workDir(name: string): Promise<string> {
  const dir = path.join(base, name);
  await fs.mkdir(dir);
  return dir;
}

test("with no LOCAL, saves ./NAME and prints one result line", async () => {
  const work = await workDir("basename");
  const result = await runCli(["get", `${url}/docs/report.txt`], { cwd: work });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(await fs.readFile(path.join(work, "report.txt"), "utf8"), "the report\n");
  assert.deepEqual(await fs.readdir(work), ["report.txt"], "no .bftp-part left behind");
  assert.match(result.stdout, /^saved report\.txt \(11 B in .+\)\n$/);
  assert.equal(result.stderr, "", "no progress off a terminal");
});

test("an existing folder as LOCAL receives the file; another LOCAL renames it", async () => {
  const work = await workDir("into");
  await fs.mkdir(path.join(work, "inbox"));
  const into = await runCli(["get", `${url}/docs/report.txt`, "inbox"], { cwd: work });
  assert.equal(into.code, 0, into.stderr);
  assert.equal(await fs.readFile(path.join(work, "inbox", "report.txt"), "utf8"), "the report\n");
  const renamed = await runCli(["get", `${url}/docs/report.txt`, "copy.txt"], { cwd: work });
  assert.equal(renamed.code, 0, renamed.stderr);
  assert.equal(await fs.readFile(path.join(work, "copy.txt"), "utf8"), "the report\n");
  const spaced = await runCli(["get", `${url}/with%20space.txt`], { cwd: work });
  assert.equal(spaced.code, 0, spaced.stderr);
  assert.equal(await fs.readFile(path.join(work, "with space.txt"), "utf8"), "spaced\n");
});

test("no-clobber: an existing LOCAL is refused with exit 1 and left alone", async () => {
  const work = await workDir("clobber");
  await fs.writeFile(path.join(work, "report.txt"), "mine");
  const result = await runCli(["get", `${url}/docs/report.txt`], { cwd: work });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /exists.*--overwrite.*\(BFTP_ERR_LOCAL_FILE\)\n$/);
  assert.equal(result.stdout, "");
  assert.equal(await fs.readFile(path.join(work, "report.txt"), "utf8"), "mine");
  const json = await runCli(["get", "--json", `${url}/docs/report.txt`], { cwd: work });
  assert.equal(json.code, 1);
  assert.deepEqual(jsonOf(json)["ok"], false);
  assert.equal((jsonOf(json)["error"] as { code: string }).code, "BFTP_ERR_LOCAL_FILE");
});

test("--overwrite replaces an existing LOCAL", async () => {
  const work = await workDir("overwrite");
  await fs.writeFile(path.join(work, "report.txt"), "mine");
  const result = await runCli(["get", "--overwrite", "-q", `${url}/docs/report.txt`], {
    cwd: work,
  });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "", "-q prints nothing on success");
  assert.equal(await fs.readFile(path.join(work, "report.txt"), "utf8"), "the report\n");
});

test("--json prints one document with the file, its size and its verified checksum", async () => {
  const work = await workDir("json");
  const result = await runCli(["get", "--json", `${url}/docs/report.txt`, "r.txt"], {
    cwd: work,
  });
  assert.equal(result.code, 0, result.stderr);
  const doc = jsonOf(result);
  assert.equal(doc["ok"], true);
  assert.equal(doc["source"], "/docs/report.txt");
  assert.equal(doc["destination"], "r.txt");
  assert.equal(doc["bytes"], 11);
  assert.deepEqual(doc["failed"], []);
  const file = (doc["files"] as Record<string, unknown>[])[0];
  assert.ok(file);
  assert.equal(file["remote"], "/docs/report.txt");
  assert.equal(file["local"], "r.txt");
  assert.equal(file["size"], 11);
  assert.equal(file["offset"], 0);
  const crc = zlib.crc32("the report\n").toString(16).padStart(8, "0");
  assert.deepEqual(file["checksum"], { alg: "crc32", value: crc });
});

test("a missing remote file is exit 1 with the server's code; a folder asks for -r", async () => {
  const work = await workDir("missing");
  const missing = await runCli(["get", "--json", `${url}/nope.txt`], { cwd: work });
  assert.equal(missing.code, 1);
  assert.equal((jsonOf(missing)["error"] as { code: string }).code, "BFTP_ERR_NOT_FOUND");
  const folder = await runCli(["get", `${url}/docs`], { cwd: work });
  assert.equal(folder.code, 1);
  assert.match(folder.stderr, /use -r/);
  assert.deepEqual(await fs.readdir(work), [], "nothing was left behind");
});

test("the saved bytes are the server's (sha256)", async () => {
  const work = await workDir("sha");
  const bytes = Buffer.alloc(3 * 1024 * 1024 + 7, 0x5a);
  await fs.writeFile(path.join(served, "blob.bin"), bytes);
  const result = await runCli(["get", "-q", `${url}/blob.bin`], { cwd: work });
  assert.equal(result.code, 0, result.stderr);
  const digest = (b: Buffer): string => createHash("sha256").update(b).digest("hex");
  assert.equal(digest(await fs.readFile(path.join(work, "blob.bin"))), digest(bytes));
});

test("-c: a local file that is already the remote one is done; one that differs is refused", async () => {
  const work = await workDir("continue");
  assert.equal((await runCli(["get", "-q", `${url}/docs/report.txt`], { cwd: work })).code, 0);
  const again = await runCli(["get", "-c", `${url}/docs/report.txt`], { cwd: work });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout, "report.txt is already complete: nothing to continue\n");
  const json = await runCli(["get", "-c", "--json", `${url}/docs/report.txt`], { cwd: work });
  assert.deepEqual(jsonOf(json)["kept"], ["report.txt"]);
  assert.deepEqual(jsonOf(json)["files"], []);
  await fs.writeFile(path.join(work, "report.txt"), "different");
  const differs = await runCli(["get", "-c", `${url}/docs/report.txt`], { cwd: work });
  assert.equal(differs.code, 1);
  assert.match(differs.stderr, /differs.*--overwrite/);
  assert.equal(await fs.readFile(path.join(work, "report.txt"), "utf8"), "different");
});
