import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { isBftpError } from "../../src/errors.js";
import { MAX_NAME_BYTES, Sandbox } from "../../src/server/sandbox.js";
import { rejectsWithCode, throwsWithCode } from "../helpers/assert-code.js";
import { PLANTED_LINKS, hostilePaths } from "../helpers/hostile-paths.js";

let base: string;
let root: string;
let outside: string;
let sandbox: Sandbox;

before(async () => {
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-sandbox-")));
  root = path.join(base, "root");
  outside = path.join(base, "outside");
  await fs.mkdir(path.join(root, "sub", "inner"), { recursive: true });
  await fs.mkdir(outside);
  await fs.writeFile(path.join(outside, "canary.txt"), "canary");
  await fs.writeFile(path.join(root, "sub", "file.txt"), "inside");
  for (const [name, target] of Object.entries(PLANTED_LINKS)) {
    await fs.symlink(target.replace("OUTSIDE", outside), path.join(root, name));
  }
  await fs.symlink("sub", path.join(root, "link-inside")); // stays inside: allowed
  sandbox = await Sandbox.open(root);
});

after(async () => {
  await fs.rm(base, { recursive: true, force: true });
});

test("normalises against the working directory", () => {
  assert.equal(sandbox.normalize("/", "a/b/../c"), "/a/c");
  assert.equal(sandbox.normalize("/sub", "file.txt"), "/sub/file.txt");
  assert.equal(sandbox.normalize("/sub/inner", ".."), "/sub");
  assert.equal(sandbox.normalize("/sub", "/x//y/./"), "/x/y");
  assert.equal(sandbox.normalize("/sub", ""), "/sub");
  assert.equal(sandbox.normalize("/", "/"), "/");
});

test("refuses climbing above the root instead of clamping", () => {
  throwsWithCode(() => sandbox.normalize("/", ".."), "BFTP_ERR_PATH_REFUSED");
  throwsWithCode(() => sandbox.normalize("/sub", "../.."), "BFTP_ERR_PATH_REFUSED");
  throwsWithCode(() => sandbox.normalize("/", "/a/../../b"), "BFTP_ERR_PATH_REFUSED");
});

test("refuses control characters, backslashes, invalid Unicode, reserved and overlong names", () => {
  for (const bad of [
    "a\0b",
    "a\nb",
    "\x1b[31m",
    "a\\b",
    "a\u009bb",
    "x\ud800",
    ".bftp-part-1",
    "a".repeat(MAX_NAME_BYTES + 1),
  ]) {
    throwsWithCode(() => sandbox.normalize("/", bad), "BFTP_ERR_PATH_REFUSED");
  }
  assert.equal(
    sandbox.normalize("/", "a".repeat(MAX_NAME_BYTES)),
    `/${"a".repeat(MAX_NAME_BYTES)}`,
  );
  assert.equal(sandbox.normalize("/", "naïve 😀.txt"), "/naïve 😀.txt");
});

test("compares by components, never by string prefix", () => {
  assert.ok(sandbox.contains(root));
  assert.ok(sandbox.contains(path.join(root, "a")));
  assert.ok(!sandbox.contains(`${root}-evil`), "a sibling sharing the prefix is outside");
  assert.ok(!sandbox.contains(path.dirname(root)));
  assert.ok(!sandbox.contains("/etc/passwd"));
});

test(`the hostile corpus (${hostilePaths().length} inputs) is refused with a code or resolves inside`, async () => {
  const corpus = hostilePaths();
  assert.ok(corpus.length >= 100);
  let refused = 0;
  for (const input of corpus) {
    for (const cwd of ["/", "/sub"]) {
      for (const followLast of [true, false]) {
        try {
          const { real, virtual } = await sandbox.resolve(cwd, input, { followLast });
          assert.ok(
            sandbox.contains(followLast || virtual === "/" ? real : path.dirname(real)),
            `${JSON.stringify(input)} -> ${real}`,
          );
          assert.ok(
            !real.startsWith(outside),
            `${JSON.stringify(input)} reached the canary's folder`,
          );
          assert.ok(virtual.startsWith("/"));
        } catch (err) {
          assert.ok(isBftpError(err), `${JSON.stringify(input)} threw ${String(err)}`);
          refused++;
        }
      }
    }
  }
  assert.ok(refused > corpus.length, "most of the corpus is refused outright");
});

test("planted links that lead out are refused when followed", async () => {
  for (const name of [
    "link-to-outside-file",
    "link-to-outside-dir",
    "relative-out",
    "link-to-outside-dir/canary.txt",
    "sub/deep-out",
    "sub/deep-out/canary.txt",
  ]) {
    await rejectsWithCode(sandbox.resolve("/", name), "BFTP_ERR_PATH_REFUSED");
  }
});

test("a dangling link is refused, even for creating a file through it", async () => {
  await rejectsWithCode(sandbox.resolve("/", "dangling"), "BFTP_ERR_PATH_REFUSED");
  await rejectsWithCode(sandbox.resolve("/", "dangling/new.txt"), "BFTP_ERR_PATH_REFUSED");
});

test("a link loop is refused", async () => {
  await rejectsWithCode(sandbox.resolve("/", "loop-a"), "BFTP_ERR_PATH_REFUSED");
  await rejectsWithCode(sandbox.resolve("/", "loop-a/x"), "BFTP_ERR_PATH_REFUSED");
});

test("acting on a link itself (followLast: false) stays inside, whatever the link points at", async () => {
  const { real } = await sandbox.resolve("/", "link-to-outside-file", { followLast: false });
  assert.equal(real, path.join(root, "link-to-outside-file"));
  await rejectsWithCode(
    sandbox.resolve("/", "link-to-outside-dir/canary.txt", { followLast: false }),
    "BFTP_ERR_PATH_REFUSED",
  );
});

test("links that stay inside are followed", async () => {
  const { real } = await sandbox.resolve("/", "link-inside/file.txt");
  assert.equal(real, path.join(root, "sub", "file.txt"));
});

test("paths that do not exist yet resolve inside (PUT and MKDIR targets)", async () => {
  const { real } = await sandbox.resolve("/sub", "new/deeper/file.bin");
  assert.equal(real, path.join(root, "sub", "new", "deeper", "file.bin"));
});

test("a directory swapped for a link after resolve is caught when the opened file is verified", async () => {
  await fs.mkdir(path.join(root, "swap"));
  await fs.writeFile(path.join(root, "swap", "canary.txt"), "inside");
  const { real } = await sandbox.resolve("/", "swap/canary.txt");
  await fs.rm(path.join(root, "swap"), { recursive: true });
  await fs.symlink(outside, path.join(root, "swap"));
  const handle = await fs.open(real, "r"); // the race: this opens the outside canary
  try {
    await rejectsWithCode(
      sandbox.verifyOpened(handle.fd, "/swap/canary.txt"),
      "BFTP_ERR_PATH_REFUSED",
    );
  } finally {
    await handle.close();
  }
});

test("a component that is a file maps to a coded error", async () => {
  await rejectsWithCode(sandbox.resolve("/", "sub/file.txt/x"), "BFTP_ERR_NOT_A_DIRECTORY");
});
