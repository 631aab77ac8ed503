// TreeSink works out where a list-form target's partial goes once per folder (`#partOf`):
// for every spelling of a local path (two slashes, `..`, relative, a long name that takes
// the hashed partial name, folders taken in turn) the partial must be where `partialPath`
// puts it, which is where `resume` looks for it, and the file must end under its own name.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { partialPath } from "../../src/client/partial-name.js";
import { TreeSink } from "../../src/client/tree-sink.js";

test("each target's partial is where partialPath puts it, however its path is spelled", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bftp-sink-"));
  try {
    fs.mkdirSync(path.join(dir, "a"));
    fs.mkdirSync(path.join(dir, "b"));
    const relB = path.relative(process.cwd(), path.join(dir, "b"));
    const locals = [
      path.join(dir, "a", "f0"),
      path.join(dir, "a", "f1"),
      `${dir}/a//f2`,
      path.join(dir, "a", "n".repeat(250)), // the partial's name is hashed to fit 255 bytes
      `${dir}/a/../b/f4`,
      `${relB}/f5`,
      `${relB}/f6`,
      path.join(dir, "a", "f7"), // back to the first folder
      `${dir}/b/../a/f8`,
    ];
    const targets = locals.map((local, i) => ({ remote: `/r/f${i}`, local }));
    const sink = new TreeSink(dir, {
      remoteDir: "/",
      alg: "crc32",
      overwrite: false,
      have: new Map(),
      targets,
      keepTimes: false,
    });
    for (const [i, local] of locals.entries()) {
      const bytes = Buffer.from(`file ${i}`);
      sink.handle({ type: "file", path: String(i), size: bytes.length, mtime: 0 });
      assert.ok(fs.existsSync(partialPath(local)), `partial of ${local}`);
      sink.handle({ type: "data", bytes });
      sink.handle({ type: "end", path: String(i), checksum: "00000000" });
      assert.ok(!fs.existsSync(partialPath(local)), `partial of ${local} left behind`);
      assert.equal(fs.readFileSync(local, "utf8"), `file ${i}`);
    }
    assert.equal(sink.files.length, locals.length);
    assert.deepEqual(sink.failed, []);
    const left = [...fs.readdirSync(path.join(dir, "a")), ...fs.readdirSync(path.join(dir, "b"))];
    assert.equal(left.filter((n) => n.endsWith(".bftp-part")).length, 0);
    assert.equal(left.length, locals.length);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
