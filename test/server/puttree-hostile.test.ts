import assert from "node:assert/strict";
import fs from "node:fs/promises";
import path from "node:path";
import zlib from "node:zlib";
import { after, before, test } from "node:test";
import { TreeEncoder } from "../../src/protocol/tree-encoder.js";
import { writeAll } from "../../src/wire/index.js";
import { assertError, assertOk } from "../helpers/assert-reply.js";
import { startServer, stagedUploads, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection, type Body } from "../helpers/protocol-connection.js";
import { waitUntil } from "../helpers/wait-until.js";

// PUTTREE from a hostile client (PROTOCOL.md §8.14): paths out of the folder, reserved
// names, a folder swapped for a link between records, a broken stream, a client that dies
// mid-file. Each hostile path costs its own file (an R with a code); nothing is ever written
// outside the root; no staging file is left; the server stays up.

let srv: TestServer;

before(async () => {
  srv = await startServer();
  await fs.mkdir(path.join(srv.root, "up"));
});

after(async () => {
  await srv.stop();
});

function crc(bytes: Uint8Array): string {
  return zlib.crc32(bytes).toString(16).padStart(8, "0");
}

function file(out: TreeEncoder, rel: string, text: string): void {
  const bytes = Buffer.from(text);
  out.head(rel, bytes.length, 1_700_000_000_000);
  if (bytes.length > 0) out.data(bytes);
  out.endOk(crc(bytes));
}

/** Reads R records until `count` arrived, or the terminator; returns [path, code or ok]. */
async function readResults(c: ProtocolConnection, count = Infinity): Promise<[string, string][]> {
  const got: [string, string][] = [];
  while (got.length < count) {
    const frame = await c.reader.readFrame({ maxSize: 1 << 20, timeout: 10_000 });
    if (frame.length === 0) break;
    const body = JSON.parse(frame.subarray(1).toString("utf8")) as Body & { path: string };
    got.push([body.path, body.ok ? "ok" : (body.error?.code ?? "?")]);
  }
  return got;
}

/** Everything below `dir`, as relative paths. */
async function listAll(dir: string): Promise<string[]> {
  return (await fs.readdir(dir, { recursive: true })).map(String).sort();
}

test("paths out of the folder, absolute, with controls or reserved names: each refused alone", async () => {
  const outsideBefore = await listAll(srv.outside);
  const c = await ProtocolConnection.open(srv.port);
  assertOk(await c.request({ op: "PUTTREE", path: "/up" }));
  const hostile = [
    "../evil.txt",
    "../../evil.txt",
    "/abs.txt",
    "a/../../x.txt",
    "./dot.txt",
    "a//b.txt",
    "ctl\u0001.txt",
    "del\u007f.txt",
    "back\\slash.txt",
    ".bftp-part-0123456789abcdef",
    "deep/.bftp-uploads/x",
  ];
  const out = new TreeEncoder(1 << 20);
  out.folder("..");
  out.folder("/etc");
  for (const rel of hostile) file(out, rel, "bad");
  file(out, "fine.txt", "good");
  await writeAll(c.socket, Buffer.concat([out.take(), out.finish()]));
  const results = await readResults(c);
  assert.deepEqual(results, [
    ...hostile.map((rel): [string, string] => [rel, "BFTP_ERR_PATH_REFUSED"]),
    ["fine.txt", "ok"],
  ]);
  assertOk(await c.reply()); // the trailer
  const reply = await c.reply();
  assert.equal(reply["failed"], hostile.length);
  assert.equal(reply["committed"], 1);
  assert.deepEqual(await listAll(path.join(srv.root, "up")), ["fine.txt"]);
  assert.deepEqual(await listAll(srv.outside), outsideBefore);
  assert.deepEqual(stagedUploads(srv), []);
  assertOk(await c.request({ op: "NOOP" }));
  c.close();
});

test("a link in the target is never followed, planted before or between records", async () => {
  const outsideBefore = await listAll(srv.outside);
  await fs.mkdir(path.join(srv.root, "up/planted"));
  await fs.mkdir(path.join(srv.root, "up/swap"));
  await fs.symlink(srv.outside, path.join(srv.root, "up/planted/link"));
  const c = await ProtocolConnection.open(srv.port);
  assertOk(await c.request({ op: "PUTTREE", path: "/up/planted" }));
  const out = new TreeEncoder(1 << 20);
  out.folder("link");
  file(out, "link/through.txt", "must not land outside");
  out.folder("../swap");
  file(out, "first.txt", "one");
  await writeAll(c.socket, out.take());
  const firsts = await readResults(c, 2);
  assert.equal(firsts[0]?.[0], "link/through.txt");
  assert.notEqual(firsts[0][1], "ok");
  assert.deepEqual(firsts[1], ["first.txt", "ok"]);
  // Between records, the folder the next file goes to becomes a link out of the root.
  await fs.mkdir(path.join(srv.root, "up/planted/later"));
  await fs.rm(path.join(srv.root, "up/planted/later"), { recursive: true });
  await fs.symlink(srv.outside, path.join(srv.root, "up/planted/later"));
  out.folder("later");
  file(out, "later/second.txt", "must not land outside either");
  await writeAll(c.socket, Buffer.concat([out.take(), out.finish()]));
  const rest = await readResults(c);
  assert.equal(rest[0]?.[0], "later/second.txt");
  assert.notEqual(rest[0][1], "ok");
  assertOk(await c.reply());
  assertOk(await c.reply());
  assert.deepEqual(await listAll(srv.outside), outsideBefore);
  assert.deepEqual(stagedUploads(srv), []);
  c.close();
});

test("garbage in the records ends the connection; committed files stay, no staging file is left", async () => {
  const garbage = [
    Buffer.from("zzzzzzzz"), // not a frame header
    Buffer.from("00000002Qx"), // an unknown record type
    Buffer.from("00000002Dx"), // bytes outside a file
    Buffer.from('0000000cE{"ok":true}'), // an end outside a file
  ];
  for (const [i, bad] of garbage.entries()) {
    const c = await ProtocolConnection.open(srv.port);
    assertOk(await c.request({ op: "PUTTREE", path: "/up" }));
    const out = new TreeEncoder(1 << 20);
    file(out, `kept-${i}.txt`, "committed before the garbage");
    out.head(`half-${i}.bin`, 100, 1);
    out.data(Buffer.alloc(10));
    const head = out.take();
    // The garbage comes inside the half file for the first, after it for the others.
    await writeAll(c.socket, i === 0 ? Buffer.concat([head, bad]) : head);
    if (i > 0) {
      const rest = new TreeEncoder(1 << 20);
      rest.data(Buffer.alloc(90));
      rest.endOk(crc(Buffer.alloc(100)));
      await writeAll(c.socket, Buffer.concat([rest.take(), bad]));
    }
    const results = await readResults(c);
    assert.deepEqual(results[0], [`kept-${i}.txt`, "ok"], String(i));
    const trailer = await c.reply();
    assert.equal(trailer.ok, false, String(i));
    const reply = await c.reply();
    assert.equal(reply["close"], true, String(i));
    await c.closed();
    assert.equal(
      await fs.readFile(path.join(srv.root, `up/kept-${i}.txt`), "utf8"),
      "committed before the garbage",
    );
    // Cut inside it, the file is not there; ended before the garbage, it was committed.
    if (i === 0) {
      await assert.rejects(fs.stat(path.join(srv.root, `up/half-${i}.bin`)), { code: "ENOENT" });
    } else assert.deepEqual(results[1], [`half-${i}.bin`, "ok"], String(i));
    await waitUntil(() => stagedUploads(srv).length === 0, "the staging files are removed");
  }
  const c = await ProtocolConnection.open(srv.port);
  assertOk(await c.request({ op: "NOOP" }));
  c.close();
});

test("a client that dies inside a file leaves nothing of that file", async () => {
  const c = await ProtocolConnection.open(srv.port);
  assertOk(await c.request({ op: "PUTTREE", path: "/up" }));
  const out = new TreeEncoder(1 << 20);
  file(out, "whole.txt", "arrived whole");
  out.head("cut.bin", 5_000_000, 1);
  out.data(Buffer.alloc(1 << 19));
  await writeAll(c.socket, out.take());
  assert.deepEqual(await readResults(c, 1), [["whole.txt", "ok"]]);
  await waitUntil(() => stagedUploads(srv).length === 1, "the cut file is staged");
  c.close();
  await waitUntil(() => stagedUploads(srv).length === 0, "the staging file is removed");
  await assert.rejects(fs.stat(path.join(srv.root, "up/cut.bin")), { code: "ENOENT" });
  assert.equal(await fs.readFile(path.join(srv.root, "up/whole.txt"), "utf8"), "arrived whole");
  assertError(
    await (async () => {
      const again = await ProtocolConnection.open(srv.port);
      const reply = await again.request({ op: "PUTTREE", path: "/up/whole.txt" });
      again.close();
      return reply;
    })(),
    "BFTP_ERR_NOT_A_DIRECTORY",
  );
});
