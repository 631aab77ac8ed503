import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { jsonOf, runCli } from "../helpers/run-cli.js";
import { spawnServe, type ServeProcess } from "../helpers/spawn-serve.js";

// Issue 13, item 1: a trailing slash on a recursive source means "its contents", as in rsync.
// `get -r URL/photos/ LOCAL` and `put -r photos/ URL/x` put the folder's files straight into
// the target, created if missing, never under the folder's name, whether or not the target
// exists; running the same command again gives the same tree (with -c every file is kept;
// without it, every file is refused as existing, exit 5, and nothing moves). Without the
// slash, cp -r's rule stays: an existing target receives the copy under the folder's name.

let base: string;
let local: string;
let served: string;
let work: string;
let serve: ServeProcess;
let url: string;
const NAMES = ["a.txt", "sub/b.bin", "sub/c/d.bin"];

before(async () => {
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-trailing-slash-")));
  local = path.join(base, "local", "photos");
  served = path.join(base, "served");
  work = path.join(base, "work");
  for (const name of NAMES) {
    const bytes = randomBytes(3000);
    for (const root of [local, path.join(served, "photos")]) {
      await fs.mkdir(path.dirname(path.join(root, name)), { recursive: true });
      await fs.writeFile(path.join(root, name), bytes);
    }
  }
  await fs.mkdir(work);
  serve = await spawnServe(served);
  url = `bftp://127.0.0.1:${serve.port}`;
});

after(async () => {
  await serve.stop();
  await fs.rm(base, { recursive: true, force: true });
});

interface Doc {
  readonly destination: string;
  readonly files: readonly unknown[];
  readonly kept: readonly unknown[];
  readonly failed: readonly { code: string }[];
}

async function cli(...args: string[]): Promise<{ code: number | null; doc: Doc }> {
  const result = await runCli([...args.slice(0, 1), "--json", "-r", ...args.slice(1)], {
    cwd: work,
    timeout: 30_000,
  });
  return { code: result.code, doc: jsonOf(result) as unknown as Doc };
}

/** Every entry below `dir`: relative path with `/`, and the SHA-256 of each file. */
async function treeOf(dir: string): Promise<string[]> {
  const lines: string[] = [];
  for (const entry of await fs.readdir(dir, { recursive: true })) {
    const rel = entry.split(path.sep).join("/");
    const full = path.join(dir, entry);
    if ((await fs.lstat(full)).isDirectory()) lines.push(`${rel}/`);
    else
      lines.push(
        `${rel} ${createHash("sha256")
          .update(await fs.readFile(full))
          .digest("hex")}`,
      );
  }
  return lines.sort();
}

/** The tree the copy must be: the source's files straight in, plus `extra` (already there). */
async function assertContents(target: string, extra: readonly string[] = []): Promise<void> {
  const tree = await treeOf(target);
  assert.deepEqual(
    tree.filter((line) => !extra.some((e) => line.startsWith(`${e} `))),
    await treeOf(local),
  );
  for (const e of extra)
    assert.ok(
      tree.some((line) => line.startsWith(`${e} `)),
      e,
    );
}

/** The same command three times: once, again with -c, again without -c. */
async function runThrice(
  args: readonly string[],
  target: string,
  tree: () => Promise<void>,
): Promise<void> {
  const [verb = "", ...rest] = args;
  const first = await cli(verb, ...rest);
  assert.equal(first.code, 0);
  assert.equal(first.doc.destination, target);
  assert.equal(first.doc.files.length, NAMES.length);
  await tree();
  const again = await cli(verb, "-c", ...rest);
  assert.equal(again.code, 0);
  assert.equal(again.doc.destination, target, "a re-run with -c went elsewhere");
  assert.deepEqual([again.doc.files.length, again.doc.kept.length], [0, NAMES.length]);
  await tree();
  const plain = await cli(verb, ...rest);
  assert.equal(plain.code, 5);
  assert.equal(plain.doc.destination, target, "a re-run without -c went elsewhere");
  assert.equal(plain.doc.failed.length, NAMES.length);
  const code = verb === "put" ? "BFTP_ERR_EXISTS" : "BFTP_ERR_LOCAL_FILE";
  for (const f of plain.doc.failed) assert.equal(f.code, code);
  await tree();
}

test("get -r URL/photos/ into a missing folder: it is made and holds the files", async () => {
  const target = path.join(work, "fresh");
  await runThrice(["get", `${url}/photos/`, target], target, () => assertContents(target));
});

test("get -r URL/photos/ into an existing folder: the files go straight in", async () => {
  const target = path.join(work, "existing");
  await fs.mkdir(target);
  await fs.writeFile(path.join(target, "other.txt"), "not part of the copy\n");
  await runThrice(["get", `${url}/photos/`, target], target, () =>
    assertContents(target, ["other.txt"]),
  );
  // Without the slash, cp -r's rule: the existing folder receives the copy under its name.
  const nested = await cli("get", `${url}/photos`, target);
  assert.equal(nested.code, 0);
  assert.equal(nested.doc.destination, path.join(target, "photos"));
});

test("get -r URL/photos/ with no LOCAL saves ./photos, as without the slash", async () => {
  const first = await cli("get", `${url}/photos/`);
  assert.equal(first.code, 0);
  assert.equal(first.doc.destination, "photos");
  await assertContents(path.join(work, "photos"));
});

test("put -r photos/ to a missing folder: it is made and holds the files", async () => {
  await runThrice(["put", `${local}/`, `${url}/fresh`], "/fresh", () =>
    assertContents(path.join(served, "fresh")),
  );
});

test("put -r photos/ to an existing folder: the files go straight in", async () => {
  await fs.mkdir(path.join(served, "existing"));
  await fs.writeFile(path.join(served, "existing", "other.txt"), "not part of the copy\n");
  await runThrice(["put", `${local}/`, `${url}/existing`], "/existing", () =>
    assertContents(path.join(served, "existing"), ["other.txt"]),
  );
  // Without the slash, cp -r's rule: the existing folder receives the copy under its name.
  const nested = await cli("put", local, `${url}/existing`);
  assert.equal(nested.code, 0);
  assert.equal(nested.doc.destination, "/existing/photos");
});
