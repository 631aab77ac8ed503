import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { jsonOf, runCli } from "../helpers/run-cli.js";
import { spawnServe, type ServeProcess } from "../helpers/spawn-serve.js";

// Issue 4, item 3: `bftp put LOCAL REMOTE`, no-clobber by default, --overwrite, --json.

let base: string;
let served: string;
let work: string;
let serve: ServeProcess;
let url: string;

before(async () => {
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-cli-put-")));
  served = path.join(base, "served");
  work = path.join(base, "work");
  await fs.mkdir(path.join(served, "inbox"), { recursive: true });
  await fs.mkdir(work);
  await fs.writeFile(path.join(work, "note.txt"), "a note\n");
  await fs.writeFile(path.join(work, "other.txt"), "another note\n");
  await fs.mkdir(path.join(work, "folder"));
  serve = await spawnServe(served);
  url = `bftp://127.0.0.1:${serve.port}`;
});

after(async () => {
  await serve.stop();
  await fs.rm(base, { recursive: true, force: true });
});

const put = (...args: string[]) => runCli(["put", ...args], { cwd: work });
const remote = (name: string) => fs.readFile(path.join(served, name), "utf8");

test("uploads to the path given and prints one result line", async () => {
  const result = await put("note.txt", `${url}/renamed.txt`);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(await remote("renamed.txt"), "a note\n");
  assert.match(result.stdout, /^uploaded \/renamed\.txt \(7 B in .+\)\n$/);
  assert.equal(result.stderr, "", "no progress off a terminal");
});

test("an existing remote folder receives the file, with or without a trailing slash", async () => {
  const slash = await put("note.txt", `${url}/inbox/`);
  assert.equal(slash.code, 0, slash.stderr);
  assert.equal(await remote("inbox/note.txt"), "a note\n");
  const bare = await put("other.txt", `${url}/inbox`);
  assert.equal(bare.code, 0, bare.stderr);
  assert.equal(await remote("inbox/other.txt"), "another note\n");
  const root = await put("other.txt", `${url}/`);
  assert.equal(root.code, 0, root.stderr);
  assert.equal(await remote("other.txt"), "another note\n");
});

test("no-clobber: an existing remote file is refused with exit 1 before any byte is sent", async () => {
  await fs.writeFile(path.join(served, "kept.txt"), "theirs");
  const result = await put("note.txt", `${url}/kept.txt`);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /exists.*--overwrite.*\(BFTP_ERR_EXISTS\)\n$/);
  assert.equal(await remote("kept.txt"), "theirs");
  assert.ok(
    !serve.stderr.some((l) => l.includes('"event":"transfer"') && l.includes("/kept.txt")),
    "the server saw no PUT",
  );
  const json = await put("--json", "note.txt", `${url}/kept.txt`);
  assert.equal(json.code, 1);
  assert.equal((jsonOf(json)["error"] as { code: string }).code, "BFTP_ERR_EXISTS");
});

test("--overwrite replaces the remote file", async () => {
  await fs.writeFile(path.join(served, "replace.txt"), "theirs");
  const result = await put("--overwrite", "-q", "note.txt", `${url}/replace.txt`);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "");
  assert.equal(await remote("replace.txt"), "a note\n");
});

test("--json prints one document with the file and the server's checksum", async () => {
  const result = await put("--json", "note.txt", `${url}/json.txt`);
  assert.equal(result.code, 0, result.stderr);
  const doc = jsonOf(result);
  assert.equal(doc["ok"], true);
  assert.equal(doc["source"], "note.txt");
  assert.equal(doc["destination"], "/json.txt");
  assert.equal(doc["bytes"], 7);
  const file = (doc["files"] as Record<string, unknown>[])[0];
  assert.ok(file);
  assert.equal(file["remote"], "/json.txt");
  assert.equal(file["local"], "note.txt");
  assert.equal(file["size"], 7);
  assert.equal((file["checksum"] as { alg: string }).alg, "crc32");
});

test("a folder without -r is a usage error (2); a missing file is exit 1", async () => {
  const folder = await put("folder", `${url}/folder`);
  assert.equal(folder.code, 2);
  assert.match(folder.stderr, /use -r/);
  const missing = await put("--json", "nope.txt", `${url}/nope.txt`);
  assert.equal(missing.code, 1);
  assert.equal((jsonOf(missing)["error"] as { code: string }).code, "BFTP_ERR_LOCAL_FILE");
  await assert.rejects(fs.lstat(path.join(served, "folder")));
});

test("the uploaded bytes are the local file's (sha256)", async () => {
  const bytes = Buffer.alloc(5 * 1024 * 1024 + 3, 0xa5);
  await fs.writeFile(path.join(work, "blob.bin"), bytes);
  const result = await put("-q", "blob.bin", `${url}/blob.bin`);
  assert.equal(result.code, 0, result.stderr);
  const digest = (b: Buffer): string => createHash("sha256").update(b).digest("hex");
  assert.equal(digest(await fs.readFile(path.join(served, "blob.bin"))), digest(bytes));
  assert.deepEqual(
    (await fs.readdir(served)).filter((n) => n.startsWith(".bftp")),
    [],
    "no temporary file is left on the server",
  );
});

test("-c: a remote file that is already the local one is done; one that differs is refused", async () => {
  assert.equal((await put("-q", "note.txt", `${url}/same.txt`)).code, 0);
  const again = await put("-c", "--json", "note.txt", `${url}/same.txt`);
  assert.equal(again.code, 0, again.stdout);
  assert.deepEqual(jsonOf(again)["kept"], ["/same.txt"]);
  const differs = await put("-c", "other.txt", `${url}/same.txt`);
  assert.equal(differs.code, 1);
  assert.match(differs.stderr, /differs.*--overwrite.*\(BFTP_ERR_EXISTS\)/);
  assert.equal(await remote("same.txt"), "a note\n");
});
