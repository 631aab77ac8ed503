// Issue 11, item 5: a name of 246 to 255 bytes could be uploaded but not downloaded under its
// own name: the partial `NAME.bftp-part` passed the file system's 255-byte limit
// (BFTP_ERR_LOCAL_FILE, ENAMETOOLONG). The partial's name now always fits, and resume finds
// it again. 255-byte names, ASCII and multi-byte UTF-8, both ways, plain, -r and -c.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { PARTIAL_SUFFIX, partialName, partialPath } from "../../src/client/partial-name.js";
import { jsonOf, runCli } from "../helpers/run-cli.js";
import { serveTempFolder, type ServedFolder } from "../helpers/serve-temp.js";

/** 255 bytes each: ASCII, two-byte (é) and three-byte (€) characters. */
const NAMES = [`${"a".repeat(251)}.txt`, `${"é".repeat(125)}.txt1`, `${"€".repeat(83)}.bin12`];

let served: ServedFolder;
let work: string;

before(async () => {
  served = await serveTempFolder("bftp-issue11-names");
  work = path.join(served.base, "work");
  await fs.mkdir(work);
  await fs.mkdir(path.join(served.served, "long"));
});

after(async () => {
  await served.stop();
});

const remote = (name: string): string => `${served.url}/long/${encodeURIComponent(name)}`;

test("the partial's name fits in 255 bytes, is cut at a character boundary and is stable", () => {
  for (const name of NAMES) assert.equal(Buffer.byteLength(name), 255, name);
  assert.equal(partialName("report.pdf"), `report.pdf${PARTIAL_SUFFIX}`);
  const fits = "b".repeat(255 - PARTIAL_SUFFIX.length);
  assert.equal(partialName(fits), `${fits}${PARTIAL_SUFFIX}`);
  const seen = new Set<string>();
  for (const name of [...NAMES, `${"a".repeat(251)}.txu`]) {
    const part = partialName(name);
    assert.ok(Buffer.byteLength(part) <= 255, part);
    assert.ok(part.endsWith(PARTIAL_SUFFIX));
    assert.equal(Buffer.from(part).toString("utf8"), part, "whole characters only");
    assert.ok(name.startsWith(part.slice(0, part.indexOf("~"))));
    assert.equal(partialName(name), part, "deterministic");
    seen.add(part);
  }
  assert.equal(seen.size, NAMES.length + 1, "names that share a long prefix stay apart");
});

test("255-byte names go up with put and come back with get, one by one and with -r", async () => {
  const src = path.join(work, "src");
  await fs.mkdir(src);
  const contents = new Map<string, Buffer>();
  for (const name of NAMES) {
    const data = randomBytes(10_000);
    contents.set(name, data);
    await fs.writeFile(path.join(src, name), data);
    const up = await runCli(["put", path.join(src, name), remote(name)], { cwd: work });
    assert.equal(up.code, 0, up.stderr);
  }
  const one = path.join(work, "one");
  await fs.mkdir(one);
  for (const name of NAMES) {
    const down = await runCli(["get", remote(name)], { cwd: one });
    assert.equal(down.code, 0, down.stderr);
    assert.ok(
      (await fs.readFile(path.join(one, name))).equals(contents.get(name) ?? Buffer.alloc(0)),
    );
  }
  assert.deepEqual((await fs.readdir(one)).sort(), [...NAMES].sort(), "no partial left behind");
  const tree = await runCli(["get", "-r", `${served.url}/long`, path.join(work, "tree")], {
    cwd: work,
  });
  assert.equal(tree.code, 0, tree.stderr);
  for (const name of NAMES) {
    const data = await fs.readFile(path.join(work, "tree", name));
    assert.ok(data.equals(contents.get(name) ?? Buffer.alloc(0)));
  }
  assert.deepEqual((await fs.readdir(path.join(work, "tree"))).sort(), [...NAMES].sort());
});

test("get -c of a 255-byte name finds its partial and fetches only the rest", async () => {
  const name = NAMES[1] ?? "";
  const data = randomBytes(300_000);
  await fs.writeFile(path.join(served.served, "long", name), data);
  const dir = path.join(work, "resume");
  await fs.mkdir(dir);
  await fs.writeFile(partialPath(path.join(dir, name)), data.subarray(0, 100_000));
  const resumed = await runCli(["get", "-c", "--json", remote(name)], { cwd: dir });
  assert.equal(resumed.code, 0, resumed.stderr);
  const [file] = jsonOf(resumed)["files"] as { offset: number; bytes: number }[];
  assert.ok(file !== undefined);
  assert.equal(file.offset, 100_000);
  assert.equal(file.bytes, 200_000);
  assert.ok((await fs.readFile(path.join(dir, name))).equals(data));
  assert.deepEqual(await fs.readdir(dir), [name]);
});
