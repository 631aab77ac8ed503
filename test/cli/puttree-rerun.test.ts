import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { jsonOf, runCli } from "../helpers/run-cli.js";
import { spawnServe, type ServeProcess } from "../helpers/spawn-serve.js";

// Issue 13, item 1: `bftp put -r -c` run again continues the same target and never nests a
// copy: the copy a first run made of a missing REMOTE is continued in REMOTE itself, and an
// existing folder that received the copy receives it again under the same name. Files held
// complete are reported as kept (not sent); a file that differs fails with BFTP_ERR_EXISTS
// (exit 5) and is replaced with --overwrite.

let base: string;
let local: string;
let served: string;
let serve: ServeProcess;
let url: string;
const NAMES = ["top.txt", "a/one.bin", "a/b/two.bin", "c/three.bin"];

before(async () => {
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-puttree-rerun-")));
  local = path.join(base, "photos");
  served = path.join(base, "served");
  for (const name of NAMES) {
    await fs.mkdir(path.dirname(path.join(local, name)), { recursive: true });
    await fs.writeFile(path.join(local, name), randomBytes(2000));
  }
  await fs.mkdir(path.join(served, "backup"), { recursive: true });
  await fs.writeFile(path.join(served, "backup", "other.txt"), "not part of the copy\n");
  serve = await spawnServe(served);
  url = `bftp://127.0.0.1:${serve.port}`;
});

after(async () => {
  await serve.stop();
  await fs.rm(base, { recursive: true, force: true });
});

interface Doc {
  readonly destination: string;
  readonly files: readonly { remote: string }[];
  readonly kept: readonly string[];
  readonly failed: readonly { path: string; code: string }[];
}

async function put(...args: string[]): Promise<{ code: number | null; doc: Doc }> {
  const result = await runCli(["put", "--json", "-r", ...args], { timeout: 60_000 });
  return { code: result.code, doc: jsonOf(result) as unknown as Doc };
}

async function assertCopy(remote: string): Promise<void> {
  for (const name of NAMES) {
    assert.deepEqual(
      await fs.readFile(path.join(served, remote, name)),
      await fs.readFile(path.join(local, name)),
      name,
    );
  }
}

test("a missing REMOTE becomes the copy, and a re-run with -c continues it there", async () => {
  const first = await put("-c", local, `${url}/fresh`);
  assert.equal(first.code, 0);
  assert.equal(first.doc.destination, "/fresh");
  await fs.rm(path.join(served, "fresh", "a/b/two.bin"));
  const again = await put("-c", local, `${url}/fresh`);
  assert.equal(again.code, 0);
  assert.equal(again.doc.destination, "/fresh", "nested inside the first copy");
  assert.deepEqual(
    again.doc.files.map((f) => f.remote),
    ["/fresh/a/b/two.bin"],
  );
  assert.equal(again.doc.kept.length, NAMES.length - 1);
  await assertCopy("fresh");
  assert.deepEqual((await fs.readdir(path.join(served, "fresh"))).sort(), ["a", "c", "top.txt"]);
});

test("an existing folder receives the copy inside it, the same one on a re-run", async () => {
  const first = await put("-c", local, `${url}/backup`);
  assert.equal(first.code, 0);
  assert.equal(first.doc.destination, "/backup/photos");
  const again = await put("-c", local, `${url}/backup`);
  assert.equal(again.code, 0);
  assert.equal(again.doc.destination, "/backup/photos");
  assert.deepEqual([again.doc.files.length, again.doc.kept.length], [0, NAMES.length]);
  assert.deepEqual((await fs.readdir(path.join(served, "backup"))).sort(), ["other.txt", "photos"]);
  await assertCopy("backup/photos");
});

test("a file that differs is refused with EXISTS (exit 5), and replaced with --overwrite", async () => {
  assert.equal((await put(local, `${url}/differs`)).code, 0);
  await fs.writeFile(path.join(served, "differs", "c/three.bin"), randomBytes(2000));
  const refused = await put("-c", local, `${url}/differs`);
  assert.equal(refused.code, 5);
  assert.deepEqual(
    refused.doc.failed.map((f) => [f.path, f.code]),
    [["/differs/c/three.bin", "BFTP_ERR_EXISTS"]],
  );
  assert.equal(refused.doc.kept.length, NAMES.length - 1);
  const replaced = await put("-c", "--overwrite", local, `${url}/differs`);
  assert.equal(replaced.code, 0);
  assert.deepEqual(
    replaced.doc.files.map((f) => f.remote),
    ["/differs/c/three.bin"],
  );
  await assertCopy("differs");
});
