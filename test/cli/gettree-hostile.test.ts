import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { encodeMessage } from "../../src/protocol/replies.js";
import { TreeEncoder } from "../../src/protocol/tree-encoder.js";
import { createChecksum } from "../../src/protocol/checksum.js";
import { startHostileServer, type HostileServer } from "../helpers/hostile-server.js";
import { runCli, type CliResult } from "../helpers/run-cli.js";

// Issue 12: a hostile server that speaks the tree stream (PROTOCOL.md §8.13) sends records
// whose paths lead out of the target. `bftp get -r` skips each with a warning (and everything
// below an unsafe folder), writes only the safe files, and prints no raw control characters.

const CONTENT = Buffer.from("served by the hostile tree\n");

/** Record paths a hostile server might send: only `ok.txt` and `safe/inner.txt` are safe. */
const HOSTILE_FILES = [
  "../evil",
  "/etc/evil",
  "a\\b",
  "x\u0000y",
  "sub/../../escape",
  "..",
  "\u001b[2J\u001b[31mred.txt",
  "line\r\nbreak.txt",
  "\u009b31mc1.txt",
  "C:evil",
  "ok.txt",
];

function hostileTree(): Buffer[] {
  const out = new TreeEncoder(1 << 20);
  const sum = createChecksum("crc32");
  sum.update(CONTENT);
  const checksum = sum.digest();
  out.folder("../../escape-dir");
  out.head("../../escape-dir/planted.txt", CONTENT.length, 0);
  out.data(CONTENT);
  out.endOk(checksum);
  out.folder("safe");
  out.head("safe/inner.txt", CONTENT.length, 0);
  out.data(CONTENT);
  out.endOk(checksum);
  for (const name of HOSTILE_FILES) {
    out.head(name, CONTENT.length, 0);
    out.data(CONTENT);
    out.endOk(checksum);
  }
  // The same safe name again, with other bytes: the first stays, the second fails alone
  // (the link that names it refuses a name that exists).
  const other = Buffer.from("a second ok.txt\n");
  const otherSum = createChecksum("crc32");
  otherSum.update(other);
  out.head("ok.txt", other.length, 0);
  out.data(other);
  out.endOk(otherSum.digest());
  out.skip("../link-out", "symlink");
  out.kept("../kept-out");
  return [encodeMessage({ ok: true, path: "/" }), out.take(), out.finish()];
}

let hostile: HostileServer;
let base: string;

before(async () => {
  hostile = await startHostileServer({
    rawReply: (op) => {
      if (op === "HELLO") {
        return [
          encodeMessage({
            ok: true,
            version: 1,
            server: "hostile/0",
            auth: { required: false, methods: ["anonymous"] },
            limits: { maxControlFrame: 8192, maxChunk: 1 << 20 },
            checksums: ["crc32", "sha256"],
            capabilities: ["pipelining", "tree"],
          }),
        ];
      }
      // Cut in pieces, so records arrive split across reads.
      if (op === "GETTREE") return splitEvery(Buffer.concat(hostileTree()), 7);
      return undefined;
    },
  });
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-cli-hostile-tree-")));
});

after(async () => {
  await hostile.close();
  await fs.rm(base, { recursive: true, force: true });
});

function splitEvery(bytes: Buffer, n: number): Buffer[] {
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += n) pieces.push(bytes.subarray(at, at + n));
  return pieces;
}

async function tree(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true });
  return entries.map((e) => e.split(path.sep).join("/")).sort();
}

function assertNoControls(result: CliResult): void {
  for (const byte of result.raw) {
    assert.ok(byte >= 0x20 || byte === 0x0a, `raw control byte 0x${byte.toString(16)} in output`);
    assert.notEqual(byte, 0x7f, "raw DEL in output");
  }
  assert.doesNotMatch(result.raw.toString("utf8"), /[\u0080-\u009f]/u, "raw C1 control in output");
}

test("get -r over the tree stream writes only the safe names and warns of every other", async () => {
  const work = path.join(base, "get-r");
  await fs.mkdir(work);
  await fs.writeFile(path.join(work, "canary"), "untouched");
  const around = await tree(base);
  const since = hostile.requests.length;

  const result = await runCli(["get", "-r", `bftp://127.0.0.1:${hostile.port}/`, "OUT"], {
    cwd: work,
  });

  assert.equal(result.code, 5, result.stderr);
  const asked = hostile.requests.slice(since).map((r) => r.op);
  assert.ok(asked.includes("GETTREE"), String(asked));
  assert.ok(!asked.includes("GET") && !asked.includes("LIST"), String(asked));
  assert.deepEqual(await tree(path.join(work, "OUT")), ["ok.txt", "safe", "safe/inner.txt"]);
  assert.deepEqual(await fs.readFile(path.join(work, "OUT", "ok.txt")), CONTENT);
  // Nothing appeared anywhere else: not beside OUT, not above the work folder.
  assert.deepEqual(
    await tree(base),
    [
      ...around,
      "get-r/OUT",
      "get-r/OUT/ok.txt",
      "get-r/OUT/safe",
      "get-r/OUT/safe/inner.txt",
    ].sort(),
  );
  await assert.rejects(fs.lstat("/etc/evil"));
  assertNoControls(result);
  assert.match(result.stderr, /warning: skipped/);
  // One warning per unsafe path: the escaping folder (its file goes with it, unannounced)
  // and the ten unsafe files; the link and the kept record lie below `..`, already skipped.
  assert.equal(result.stderr.match(/warning: skipped/g)?.length, 11, result.stderr);
  assert.match(result.stderr, /skipped 11 entries/);
  assert.match(result.stderr, /failed \/ok\.txt: .*\(BFTP_ERR_LOCAL_FILE\)/u, result.stderr);
});
