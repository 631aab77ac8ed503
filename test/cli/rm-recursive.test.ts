import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { childEnv, runShellScript } from "../fixtures/spawn-shell.js";
import { jsonOf, runCli } from "../helpers/run-cli.js";
import { spawnServe, type ServeProcess } from "../helpers/spawn-serve.js";

// Issue 13, item 7: recursive remote delete, `rm -r`, in the CLI and the shell (one operation,
// client/remove-tree.ts): a folder goes with everything below it, a link inside is removed and
// never followed, the root is refused and nothing is removed, and `rm` without -r still
// refuses a folder.

let base: string;
let served: string;
let outside: string;
let serve: ServeProcess;
let url: string;

before(async () => {
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-cli-rm-r-")));
  served = path.join(base, "served");
  outside = path.join(base, "outside");
  await fs.mkdir(served);
  await fs.mkdir(outside);
  await fs.writeFile(path.join(outside, "keep.txt"), "outside the root");
  serve = await spawnServe(served);
  url = `bftp://127.0.0.1:${serve.port}`;
});

after(async () => {
  await serve.stop();
  await fs.rm(base, { recursive: true, force: true });
});

/** A tree of 3 folders below `name`, 7 files and a link to a folder outside the root. */
async function plant(name: string): Promise<void> {
  const top = path.join(served, name);
  await fs.mkdir(path.join(top, "a", "deep"), { recursive: true });
  await fs.mkdir(path.join(top, "empty"));
  for (const file of ["1.txt", "2.txt", "a/3.txt", "a/4.txt", "a/deep/5.txt", "a/deep/6.bin"]) {
    await fs.writeFile(path.join(top, file), `content of ${file}\n`);
  }
  await fs.symlink(outside, path.join(top, "a", "link-out"));
}

const exists = (name: string) =>
  fs.lstat(path.join(served, name)).then(
    () => true,
    () => false,
  );
const codeOf = (result: { stdout: string }) => (jsonOf(result)["error"] as { code: string }).code;

test("rm -r removes a folder with everything below it; a link is removed, not followed", async () => {
  await plant("tree");
  const result = await runCli(["rm", "-r", "--json", `${url}/tree`]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(jsonOf(result), { ok: true, path: "/tree", files: 7, folders: 4 });
  assert.equal(await exists("tree"), false);
  assert.deepEqual(await fs.readdir(outside), ["keep.txt"], "the link's target is untouched");
  const again = await runCli(["rm", "-r", "--json", `${url}/tree`]);
  assert.equal(again.code, 1);
  assert.equal(codeOf(again), "BFTP_ERR_NOT_FOUND");
});

test("rm -r of a file removes the file; plain rm still refuses a folder", async () => {
  await fs.writeFile(path.join(served, "single.txt"), "x");
  const file = await runCli(["rm", "-r", `${url}/single.txt`]);
  assert.equal(file.code, 0, file.stderr);
  assert.equal(file.stdout, "removed /single.txt (1 file, 0 folders)\n");
  assert.equal(await exists("single.txt"), false);
  await plant("kept");
  const plain = await runCli(["rm", "--json", `${url}/kept`]);
  assert.equal(plain.code, 1);
  assert.equal(codeOf(plain), "BFTP_ERR_IS_A_DIRECTORY");
  assert.equal(await exists("kept/a/deep/5.txt"), true);
});

test("the root is refused, written any way, and nothing is removed", async () => {
  await plant("stays");
  for (const target of [`${url}/`, `${url}/stays/..`, `${url}//`]) {
    const result = await runCli(["rm", "-r", "--json", target]);
    assert.equal(codeOf(result), "BFTP_ERR_INVALID_ARGUMENT", target);
    assert.notEqual(result.code, 0);
  }
  assert.equal(await exists("stays/a/deep/6.bin"), true);
});

test("rm -r with a glob removes each folder it matches", async () => {
  await plant("old-1");
  await plant("old-2");
  await plant("new-1");
  const result = await runCli(["rm", "-r", "--json", `${url}/old-*`]);
  assert.equal(result.code, 0, result.stderr);
  const { removed } = jsonOf(result) as { removed: { path: string }[] };
  assert.deepEqual(removed.map((r) => r.path).sort(), ["/old-1", "/old-2"]);
  assert.equal(await exists("old-1"), false);
  assert.equal(await exists("old-2"), false);
  assert.equal(await exists("new-1/1.txt"), true);
});

test("the shell's rm -r is the same operation; the shell refuses the root too", async () => {
  await plant("shelled");
  const env = childEnv(path.join(base, "state"));
  const { code, stdout, stderr } = await runShellScript(url, "rm -r shelled\nrm -r /\n", {
    cwd: base,
    env,
  });
  assert.ok(stdout.includes("removed /shelled (7 files, 4 folders)"), stdout);
  assert.equal(await exists("shelled"), false);
  assert.notEqual(code, 0, "rm -r / fails");
  assert.match(stderr, /BFTP_ERR_INVALID_ARGUMENT/u);
  assert.equal(await exists("stays/a/deep/6.bin"), true);
});
