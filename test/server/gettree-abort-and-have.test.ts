import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { encodeFrame, writeAll } from "../../src/wire/index.js";
import { assertError, assertOk } from "../helpers/assert-reply.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection } from "../helpers/protocol-connection.js";

// PROTOCOL.md §8.13 on the wire: an ABORT pipelined behind a GETTREE ends its phase with a
// BFTP_ERR_TRANSFER_ABORTED trailer; a have list makes the server send K for the files the
// client holds and the others whole; a malformed have list is refused with the connection in
// step.

const SMALL = Buffer.from("the same bytes\n");
let srv: TestServer;
let conn: ProtocolConnection;

before(async () => {
  srv = await startServer();
  await fs.mkdir(path.join(srv.root, "t/sub"), { recursive: true });
  const huge = await fs.open(path.join(srv.root, "t/huge.bin"), "w");
  await huge.truncate(64 * 1024 * 1024); // sparse
  await huge.close();
  await fs.writeFile(path.join(srv.root, "t/same.txt"), SMALL);
  await fs.writeFile(path.join(srv.root, "t/sub/other.txt"), randomBytes(1000));
  await fs.writeFile(path.join(srv.root, "t/sub/big.bin"), randomBytes(2 * 1024 * 1024));
  conn = await ProtocolConnection.open(srv.port);
});

after(async () => {
  conn.close();
  await srv.stop();
});

/** A tree phase's frames as [type, JSON body or byte count]. */
function records(frames: readonly Buffer[]): [string, unknown][] {
  return frames.map((f) => {
    const type = String.fromCharCode(f[0] as number);
    return [type, type === "D" ? f.length - 1 : JSON.parse(f.subarray(1).toString("utf8"))];
  });
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** A have-list data phase: one frame per array, the terminator, a correct trailer. */
async function sendHave(arrays: readonly unknown[]): Promise<void> {
  const payloads = arrays.map((a) => Buffer.from(typeof a === "string" ? a : JSON.stringify(a)));
  const all = Buffer.concat(payloads);
  const { crc32 } = await import("node:zlib");
  const trailer = {
    ok: true,
    checksum: { alg: "crc32", value: crc32(all).toString(16).padStart(8, "0") },
  };
  await writeAll(conn.socket, [
    ...payloads.map((p) => encodeFrame(p)),
    Buffer.from("00000000"),
    encodeFrame(JSON.stringify(trailer)),
  ]);
}

test("ABORT right behind a GETTREE ends its phase with an abort trailer, then replies aborted: true", async () => {
  await writeAll(conn.socket, [
    encodeFrame(JSON.stringify({ op: "GETTREE", path: "/t", tag: "tree" })),
    encodeFrame(JSON.stringify({ op: "ABORT", tag: "abort" })),
  ]);
  const reply = await conn.reply();
  assertOk(reply);
  assert.equal(reply["tag"], "tree");
  const { data, frames, trailer } = await conn.readData();
  assert.ok(data.length < 64 * 1024 * 1024, `${data.length} bytes arrived: not stopped`);
  // Whatever was sent before the ABORT was seen is whole records; no file is left open.
  const types = records(frames).map(([t]) => t);
  assert.equal(types.filter((t) => t === "H").length, types.filter((t) => t === "E").length);
  assertError(trailer, "BFTP_ERR_TRANSFER_ABORTED");
  assert.deepEqual(await conn.reply(), { ok: true, aborted: true, tag: "abort" });
  assert.deepEqual(await conn.request({ op: "ABORT" }), { ok: true, aborted: false });
});

test("a have list: files the client holds come as K records, the others whole", async () => {
  await conn.send({ op: "GETTREE", path: "/t/sub", have: true });
  await sendHave([
    [{ path: "other.txt", size: 1000, sha256: "0".repeat(64) }],
    [
      {
        path: "big.bin",
        size: 2 * 1024 * 1024,
        sha256: sha256(await fs.readFile(path.join(srv.root, "t/sub/big.bin"))),
      },
    ],
  ]);
  assertOk(await conn.reply());
  const { frames, trailer } = await conn.readData();
  assertOk(trailer);
  const got = records(frames);
  // The order is the server's (its folder's order); what each file got is not.
  const heads = got.filter(([t]) => t === "H").map(([, body]) => (body as { path: string }).path);
  const kept = got.filter(([t]) => t === "K").map(([, body]) => (body as { path: string }).path);
  const ends = got.filter(([t]) => t === "E").map(([, body]) => (body as { ok: boolean }).ok);
  assert.deepEqual(heads, ["other.txt"]);
  assert.deepEqual(kept, ["big.bin"]);
  assert.deepEqual(ends, [true]);
});

test("a have list matches by size and mtime when it has no SHA-256", async () => {
  const stats = await fs.stat(path.join(srv.root, "t/same.txt"), { bigint: true });
  await conn.send({ op: "GETTREE", path: "/t", have: true });
  await sendHave([
    [{ path: "same.txt", size: SMALL.length, mtime: Number(stats.mtimeNs / 1_000_000n) }],
  ]);
  assertOk(await conn.reply());
  const { frames, trailer } = await conn.readData();
  assertOk(trailer);
  const kept = records(frames).filter(([t]) => t === "K");
  assert.deepEqual(kept, [["K", { path: "same.txt" }]]);
});

test("a malformed have list is refused, read to its end: the connection stays in step", async () => {
  for (const bad of [
    "{not json",
    JSON.stringify([{ path: "../x", size: 1 }]),
    JSON.stringify({ path: "a" }),
  ]) {
    await conn.send({ op: "GETTREE", path: "/t", have: true });
    await sendHave([bad]);
    assertError(await conn.reply(), "BFTP_ERR_BAD_REQUEST");
  }
  // A refused GETTREE (no such folder) still has its have list read and dropped.
  await conn.send({ op: "GETTREE", path: "/nope", have: true });
  await sendHave([[{ path: "a", size: 1 }]]);
  assertError(await conn.reply(), "BFTP_ERR_NOT_FOUND");
  assert.deepEqual(await conn.request({ op: "ABORT" }), { ok: true, aborted: false });
});
