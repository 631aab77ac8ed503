import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import zlib from "node:zlib";
import { after, before, test } from "node:test";
import { TreeEncoder } from "../../src/protocol/tree-encoder.js";
import { writeAll } from "../../src/wire/index.js";
import { assertError, assertOk } from "../helpers/assert-reply.js";
import { startServer, stagedUploads, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection, type Body } from "../helpers/protocol-connection.js";

// PROTOCOL.md §8.14 on the wire, from a raw client: PUTTREE's reply, the records phase, the
// results phase (one R per file) and the final reply; a file that fails costs only its R.

const MAX_CHUNK = 1 << 20;
let srv: TestServer;
let conn: ProtocolConnection;

before(async () => {
  srv = await startServer();
  await fs.mkdir(path.join(srv.root, "up"));
  conn = await ProtocolConnection.open(srv.port);
});

after(async () => {
  conn.close();
  await srv.stop();
});

function crc(bytes: Uint8Array): string {
  return zlib.crc32(bytes).toString(16).padStart(8, "0");
}

/** One file's records: H, D frames, E with its CRC-32 (or `checksum`). */
function file(
  out: TreeEncoder,
  rel: string,
  bytes: Buffer,
  mtime: number,
  checksum?: string,
): void {
  out.head(rel, bytes.length, mtime);
  for (let at = 0; at < bytes.length; at += MAX_CHUNK - 1)
    out.data(bytes.subarray(at, at + MAX_CHUNK - 1));
  out.endOk(checksum ?? crc(bytes));
}

/** The results phase as [path, code or "ok"], its trailer, and the final reply. */
async function results(
  c: ProtocolConnection,
): Promise<{ outcomes: Map<string, string>; trailer: Body; reply: Body }> {
  const { frames, trailer } = await c.readData();
  const outcomes = new Map<string, string>();
  for (const frame of frames) {
    assert.equal(frame[0], 0x52); // R
    const body = JSON.parse(frame.subarray(1).toString("utf8")) as {
      path: string;
      ok: boolean;
      error?: { code: string };
    };
    assert.equal(outcomes.has(body.path), false, `two results for ${body.path}`);
    outcomes.set(body.path, body.ok ? "ok" : (body.error?.code ?? "?"));
  }
  return { outcomes, trailer, reply: await c.reply() };
}

async function putTree(
  c: ProtocolConnection,
  target: string,
  build: (out: TreeEncoder) => void,
  fields: object = {},
): Promise<{ outcomes: Map<string, string>; trailer: Body; reply: Body }> {
  assertOk(await c.request({ op: "PUTTREE", path: target, ...fields }));
  const out = new TreeEncoder(MAX_CHUNK);
  build(out);
  await writeAll(c.socket, Buffer.concat([out.take(), out.finish()]));
  return results(c);
}

test("HELLO announces puttree", async () => {
  const c = await ProtocolConnection.open(srv.port, { hello: false });
  const reply = await c.request({ op: "HELLO", versions: [1] });
  c.close();
  assert.ok((reply["capabilities"] as string[]).includes("puttree"));
});

test("a tree arrives whole: folders made, files committed with their bytes and mtimes", async () => {
  const big = randomBytes(3 * MAX_CHUNK + 17);
  const small = Buffer.from("hello\n");
  const { outcomes, trailer, reply } = await putTree(conn, "/up", (out) => {
    file(out, "small.txt", small, 1_700_000_000_123);
    file(out, "empty", Buffer.alloc(0), 1_600_000_000_000);
    out.folder("a");
    out.folder("a/b");
    file(out, "a/b/big.bin", big, 1_700_000_000_456);
  });
  assertOk(trailer);
  assert.deepEqual(
    [...outcomes],
    [
      ["small.txt", "ok"],
      ["empty", "ok"],
      ["a/b/big.bin", "ok"],
    ],
  );
  assert.deepEqual(reply, { ok: true, files: 3, committed: 3, failed: 0, bytes: big.length + 6 });
  assert.deepEqual(await fs.readFile(path.join(srv.root, "up/small.txt")), small);
  assert.deepEqual(await fs.readFile(path.join(srv.root, "up/a/b/big.bin")), big);
  assert.equal((await fs.stat(path.join(srv.root, "up/empty"))).size, 0);
  const stamps = await fs.stat(path.join(srv.root, "up/small.txt"), { bigint: true });
  assert.equal(stamps.mtimeNs / 1_000_000n, 1_700_000_000_123n);
  assert.deepEqual(stagedUploads(srv), []);
});

test("an existing file is refused with EXISTS, alone; overwrite replaces it", async () => {
  await fs.writeFile(path.join(srv.root, "up/old.txt"), "old");
  const first = await putTree(conn, "/up", (out) => {
    file(out, "old.txt", Buffer.from("new"), 1);
    file(out, "fresh.txt", Buffer.from("fresh"), 1);
  });
  assert.equal(first.outcomes.get("old.txt"), "BFTP_ERR_EXISTS");
  assert.equal(first.outcomes.get("fresh.txt"), "ok");
  assert.equal(first.reply["failed"], 1);
  assert.equal(await fs.readFile(path.join(srv.root, "up/old.txt"), "utf8"), "old");
  const second = await putTree(
    conn,
    "/up",
    (out) => {
      file(out, "old.txt", Buffer.from("new"), 1);
    },
    { overwrite: true },
  );
  assert.equal(second.outcomes.get("old.txt"), "ok");
  assert.equal(await fs.readFile(path.join(srv.root, "up/old.txt"), "utf8"), "new");
});

test("a file whose bytes do not match its checksum is not committed", async () => {
  const { outcomes, reply } = await putTree(conn, "/up", (out) => {
    file(out, "bad.bin", Buffer.from("payload"), 1, "00000000");
    file(out, "good.bin", Buffer.from("payload"), 1);
  });
  assert.equal(outcomes.get("bad.bin"), "BFTP_ERR_CHECKSUM_MISMATCH");
  assert.equal(outcomes.get("good.bin"), "ok");
  assert.equal(reply["committed"], 1);
  await assert.rejects(fs.stat(path.join(srv.root, "up/bad.bin")), { code: "ENOENT" });
  assert.deepEqual(stagedUploads(srv), []);
});

test("a file the client ends with an error is not committed, and reads as aborted", async () => {
  const { outcomes } = await putTree(conn, "/up", (out) => {
    out.head("half.bin", 10, 1);
    out.data(Buffer.from("12345"));
    // An E with an error may come before the size is reached (§7.4).
    out.endError({ code: "BFTP_ERR_LOCAL_FILE", status: 500, message: "gone" });
  });
  assert.equal(outcomes.get("half.bin"), "BFTP_ERR_TRANSFER_ABORTED");
  await assert.rejects(fs.stat(path.join(srv.root, "up/half.bin")), { code: "ENOENT" });
});

test("a missing target folder is refused before any record, the connection usable", async () => {
  assertError(await conn.request({ op: "PUTTREE", path: "/nowhere" }), "BFTP_ERR_NOT_FOUND");
  assertOk(await conn.request({ op: "NOOP" }));
});

test("S and K records are out of the upload's grammar: the connection ends, the server stays", async () => {
  const c = await ProtocolConnection.open(srv.port);
  const got = await putTree(c, "/up", (out) => {
    file(out, "before-kept.txt", Buffer.from("x"), 1);
    out.kept("whatever");
  });
  assertError(got.trailer, "BFTP_ERR_BAD_REQUEST");
  assertError(got.reply, "BFTP_ERR_BAD_REQUEST");
  assert.equal(got.reply["close"], true);
  await c.closed();
  assert.deepEqual(stagedUploads(srv), []);
  assertOk(await conn.request({ op: "NOOP" }));
});
