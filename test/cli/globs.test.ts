import assert from "node:assert/strict";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { jsonOf, runCli } from "../helpers/run-cli.js";
import { serveTempFolder, type ServedFolder } from "../helpers/serve-temp.js";

// Issue 13, item 3: remote globs for get, ls and rm (`*`, `?`, `[...]`, `**`), expanded
// against LIST; none is an error, hidden names only for a pattern that starts with a dot.

let served: ServedFolder;
let root: string;
let work: string;
let url: string;

before(async () => {
  served = await serveTempFolder("bftp-cli-globs");
  root = served.served;
  url = served.url;
  work = path.join(served.base, "work");
  await fs.mkdir(work);
  const files: Record<string, string> = {
    "logs/a.txt": "a\n",
    "logs/b.txt": "b\n",
    "logs/c.log": "c\n",
    "logs/.hidden.txt": "hidden\n",
    "logs/odd*name.txt": "the odd one\n",
    "logs/oddXname.txt": "the plain one\n",
    "logs/sub/d.txt": "d\n",
    "logs/sub/deeper/e.txt": "e\n",
    "logs/.git/x.txt": "inside a hidden folder\n",
    "trash/1.tmp": "1",
    "trash/2.tmp": "2",
    "trash/keep.txt": "keep",
  };
  for (const [name, text] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(root, name)), { recursive: true });
    await fs.writeFile(path.join(root, name), text);
  }
});

after(() => served.stop());

const cli = (...args: string[]) => runCli(args, { cwd: work });

async function freshDir(name: string): Promise<string> {
  const dir = path.join(work, name);
  await fs.mkdir(dir);
  return dir;
}

/** Every file below `dir`, as relative paths, sorted. */
async function filesIn(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

test("a glob matching many files downloads them all over one connection", async () => {
  const dir = await freshDir("many");
  const result = await cli("get", "--json", `${url}/logs/*.txt`, dir);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(await filesIn(dir), ["a.txt", "b.txt", "odd*name.txt", "oddXname.txt"]);
  assert.equal((jsonOf(result)["files"] as unknown[]).length, 4);
  assert.equal(await fs.readFile(path.join(dir, "a.txt"), "utf8"), "a\n");
});

test("a glob matching one file downloads it; with no LOCAL, into the current folder", async () => {
  const result = await cli("get", `${url}/logs/*.log`);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(await fs.readFile(path.join(work, "c.log"), "utf8"), "c\n");
});

test("a glob matching nothing is BFTP_ERR_NO_MATCH, for get, ls and rm, and writes nothing", async () => {
  const dir = await freshDir("none");
  for (const args of [
    ["get", "--json", `${url}/logs/*.pdf`, dir],
    ["ls", "--json", `${url}/logs/*.pdf`],
    ["rm", "--json", `${url}/nowhere/*`],
  ]) {
    const result = await cli(...args);
    assert.equal(result.code, 1, args.join(" "));
    assert.equal((jsonOf(result)["error"] as { code: string }).code, "BFTP_ERR_NO_MATCH");
  }
  assert.deepEqual(await fs.readdir(dir), []);
});

test("? and [...] match one character", async () => {
  const dir = await freshDir("classes");
  const result = await cli("get", `${url}/logs/[ab].txt`, `${url}/logs/?.log`, dir);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(await filesIn(dir), ["a.txt", "b.txt", "c.log"]);
});

test("** matches any depth and keeps the tree's shape, leaving hidden names alone", async () => {
  const dir = await freshDir("deep");
  const result = await cli("get", `${url}/logs/**/*.txt`, dir);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(await filesIn(dir), [
    "a.txt",
    "b.txt",
    "odd*name.txt",
    "oddXname.txt",
    path.join("sub", "d.txt"),
    path.join("sub", "deeper", "e.txt"),
  ]);
});

test("hidden names are matched only by a pattern that starts with a dot", async () => {
  const dir = await freshDir("hidden");
  const result = await cli("get", `${url}/logs/.*.txt`, dir);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(await filesIn(dir), [".hidden.txt"]);
});

test("a backslash or --literal makes glob characters plain", async () => {
  const escaped = await freshDir("escaped");
  const one = await cli("get", `${url}/logs/odd\\*name.txt`, escaped);
  assert.equal(one.code, 0, one.stderr);
  assert.deepEqual(await filesIn(escaped), ["odd*name.txt"]);
  const literal = await freshDir("literal");
  const two = await cli("get", "--literal", `${url}/logs/odd*name.txt`, literal);
  assert.equal(two.code, 0, two.stderr);
  assert.deepEqual(await filesIn(literal), ["odd*name.txt"]);
  const listed = await cli("ls", "--json", "--literal", `${url}/logs/odd*name.txt`);
  assert.equal(listed.code, 0, listed.stderr);
  const entries = jsonOf(listed)["entries"] as { name: string }[];
  assert.deepEqual(
    entries.map((e) => e.name),
    ["odd*name.txt"],
  );
});

test("folders a glob matches are skipped with a warning (exit 5); -r with a glob is refused", async () => {
  const dir = await freshDir("folders");
  const result = await cli("get", "--json", `${url}/logs/*`, dir);
  assert.equal(result.code, 5, result.stderr);
  assert.deepEqual(await filesIn(dir), ["a.txt", "b.txt", "c.log", "odd*name.txt", "oddXname.txt"]);
  assert.equal(jsonOf(result)["skipped"], 1);
});

test("with -r, the folders a glob matches are copied whole, once", async () => {
  const dir = await freshDir("recursive");
  const result = await cli("get", "-r", "--json", `${url}/logs/s*`, `${url}/logs/**`, dir);
  assert.equal(result.code, 2, "-r takes one pattern");
  const one = await cli("get", "-r", "--json", `${url}/logs/**`, dir);
  assert.equal(one.code, 0, one.stderr);
  assert.deepEqual(await filesIn(dir), [
    "a.txt",
    "b.txt",
    "c.log",
    "odd*name.txt",
    "oddXname.txt",
    path.join("sub", "d.txt"),
    path.join("sub", "deeper", "e.txt"),
  ]);
  assert.equal((jsonOf(one)["files"] as unknown[]).length, 7);
});

test("ls lists what a glob matches, by path below the pattern's folder", async () => {
  const result = await cli("ls", "--json", `${url}/logs/**/[de].txt`);
  assert.equal(result.code, 0, result.stderr);
  const entries = jsonOf(result)["entries"] as { name: string; type: string }[];
  assert.deepEqual(
    entries.map((e) => [e.name, e.type]),
    [
      ["sub/d.txt", "file"],
      ["sub/deeper/e.txt", "file"],
    ],
  );
  const text = await cli("ls", `${url}/logs/*.log`);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /c\.log\n$/);
});

test("rm removes every file a glob matches, and nothing else", async () => {
  const result = await cli("rm", "--json", `${url}/trash/*.tmp`);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(jsonOf(result)["paths"], ["/trash/1.tmp", "/trash/2.tmp"]);
  assert.deepEqual(await fs.readdir(path.join(root, "trash")), ["keep.txt"]);
});
