import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import zlib from "node:zlib";
import { after, before, test } from "node:test";
import { TreeEncoder } from "../../src/protocol/tree-encoder.js";
import { encodeFrame, writeAll } from "../../src/wire/index.js";
import { assertError, assertOk } from "../helpers/assert-reply.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection, type Body } from "../helpers/protocol-connection.js";

// PROTOCOL.md §8.14's offer and held list, from a raw client: the server names exactly the
// offered files it holds complete (a regular file, same size, and same mtime or SHA-256), never
// a link, a folder or a file behind a link; the client's records then carry only the others,
// and the final reply counts the held ones. A malformed or oversized offer is refused once
// read, with the connection in step.

const M = 1_763_700_000_000; // the mtime every prepared file has
const BIG = 9 * 1024 * 1024; // over the server's 8 MiB: hashed off the worker pool
let srv: TestServer;
let conn: ProtocolConnection;

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function crc(bytes: Uint8Array): string {
  return zlib.crc32(bytes).toString(16).padStart(8, "0");
}

before(async () => {
  srv = await startServer();
  const t = (name: string): string => path.join(srv.root, "t", name);
  await fs.mkdir(t("sub"), { recursive: true });
  await fs.mkdir(t("dir.txt"));
  await fs.writeFile(t("a.txt"), "hello"); // 5 bytes: as long as the link's target name
  await fs.writeFile(t("sub/b.txt"), "bbb");
  await fs.writeFile(t("c.txt"), "ccc");
  await fs.writeFile(t("same-size.txt"), "xxxx");
  await fs.writeFile(t("big.bin"), Buffer.alloc(BIG, 1));
  await fs.symlink("a.txt", t("l.txt"));
  await fs.symlink("sub", t("ln"));
  for (const name of ["a.txt", "sub/b.txt", "c.txt", "same-size.txt", "big.bin", "dir.txt"]) {
    await fs.utimes(t(name), new Date(M), new Date(M));
  }
  await fs.lutimes(t("l.txt"), new Date(M), new Date(M));
  conn = await ProtocolConnection.open(srv.port);
});

after(async () => {
  conn.close();
  await srv.stop();
});

/** An offer data phase: one frame per array (or raw string), the terminator, a correct trailer. */
async function sendOffer(c: ProtocolConnection, arrays: readonly unknown[]): Promise<void> {
  const payloads = arrays.map((a) => Buffer.from(typeof a === "string" ? a : JSON.stringify(a)));
  const trailer = { ok: true, checksum: { alg: "crc32", value: crc(Buffer.concat(payloads)) } };
  await writeAll(c.socket, [
    ...payloads.map((p) => encodeFrame(p)),
    Buffer.from("00000000"),
    encodeFrame(JSON.stringify(trailer)),
  ]);
}

/** PUTTREE with an offer: the reply, then the held phase as paths, checked frame by frame. */
async function offer(
  c: ProtocolConnection,
  entries: readonly object[],
  fields: object = {},
): Promise<string[]> {
  await c.send({ op: "PUTTREE", path: "/t", offer: true, ...fields });
  await sendOffer(c, [entries]);
  assertOk(await c.reply());
  const { frames, trailer } = await c.readData();
  assertOk(trailer);
  assert.equal((trailer["checksum"] as { value: string }).value, crc(Buffer.concat(frames)));
  return frames.flatMap((f) => JSON.parse(f.toString("utf8")) as string[]);
}

/** The records phase built by `build`, then the results as [path, code or "ok"] and the final reply. */
async function records(
  c: ProtocolConnection,
  build: (out: TreeEncoder) => void = () => undefined,
): Promise<{ outcomes: [string, string][]; reply: Body }> {
  const out = new TreeEncoder(1 << 20);
  build(out);
  await writeAll(c.socket, Buffer.concat([out.take(), out.finish()]));
  const { frames, trailer } = await c.readData();
  assertOk(trailer);
  const outcomes = frames.map((f): [string, string] => {
    const body = JSON.parse(f.subarray(1).toString("utf8")) as {
      path: string;
      ok: boolean;
      error?: { code: string };
    };
    return [body.path, body.ok ? "ok" : (body.error?.code ?? "?")];
  });
  return { outcomes, reply: await c.reply() };
}

test("held: exactly the offered regular files of the same size and mtime, never a link or a folder", async () => {
  const held = await offer(conn, [
    { path: "a.txt", size: 5, mtime: M },
    { path: "sub/b.txt", size: 3, mtime: M },
    { path: "c.txt", size: 4, mtime: M }, // another size
    { path: "same-size.txt", size: 4, mtime: M + 1 }, // another mtime
    { path: "missing.txt", size: 1, mtime: M },
    { path: "dir.txt", size: 0, mtime: M }, // a folder at the name
    { path: "l.txt", size: 5, mtime: M }, // a link at the name, its own size and mtime
    { path: "ln/b.txt", size: 3, mtime: M }, // behind a link to a folder
    { path: "sub/nope/b.txt", size: 3, mtime: M },
    { path: "a.txt/x", size: 5, mtime: M }, // a file on the way
    { path: "big.bin", size: BIG }, // neither mtime nor SHA-256: never held
  ]);
  assert.deepEqual(held.sort(), ["a.txt", "sub/b.txt"]);
  const { outcomes, reply } = await records(conn);
  assert.deepEqual(outcomes, []);
  assert.deepEqual(reply, { ok: true, files: 0, committed: 0, failed: 0, held: 2, bytes: 0 });
});

test("with SHA-256 entries the content decides, a large file's too; the mtime does not", async () => {
  const held = await offer(
    conn,
    [
      { path: "a.txt", size: 5, mtime: 1, sha256: sha256(Buffer.from("hello")) },
      { path: "same-size.txt", size: 4, mtime: M, sha256: sha256(Buffer.from("yyyy")) },
      { path: "l.txt", size: 5, sha256: sha256(Buffer.from("a.txt")) },
      { path: "big.bin", size: BIG, sha256: sha256(Buffer.alloc(BIG, 1)) },
      { path: "sub/b.txt", size: 3, sha256: sha256(Buffer.from("bbb")) },
    ],
    { checksum: "sha256" },
  );
  assert.deepEqual(held.sort(), ["a.txt", "big.bin", "sub/b.txt"]);
  const { reply } = await records(conn);
  assert.equal(reply["held"], 3);
});

test("after the held list, the records carry the other files, committed as usual", async () => {
  const held = await offer(conn, [
    { path: "a.txt", size: 5, mtime: M },
    { path: "new/n.txt", size: 3, mtime: M },
  ]);
  assert.deepEqual(held, ["a.txt"]);
  const { outcomes, reply } = await records(conn, (out) => {
    out.folder("new");
    out.head("new/n.txt", 3, M);
    out.data(Buffer.from("nnn"));
    out.endOk(crc(Buffer.from("nnn")));
  });
  assert.deepEqual(outcomes, [["new/n.txt", "ok"]]);
  assert.deepEqual(reply, { ok: true, files: 1, committed: 1, failed: 0, held: 1, bytes: 3 });
  assert.equal(await fs.readFile(path.join(srv.root, "t/new/n.txt"), "utf8"), "nnn");
});

test("a malformed offer is refused once read, and the connection stays in step", async () => {
  for (const bad of [
    "{not json",
    JSON.stringify([{ path: "../x", size: 1 }]),
    JSON.stringify([{ path: "a.txt", size: -1 }]),
    JSON.stringify({ path: "a.txt" }),
  ]) {
    await conn.send({ op: "PUTTREE", path: "/t", offer: true });
    await sendOffer(conn, [bad]);
    assertError(await conn.reply(), "BFTP_ERR_BAD_REQUEST");
  }
  // A PUTTREE refused for its folder still has its offer read and dropped.
  await conn.send({ op: "PUTTREE", path: "/nope", offer: true });
  await sendOffer(conn, [[{ path: "a.txt", size: 5, mtime: M }]]);
  assertError(await conn.reply(), "BFTP_ERR_NOT_FOUND");
  assert.deepEqual(await conn.request({ op: "ABORT" }), { ok: true, aborted: false });
});

test("an offer over the per-frame limit (100,000 entries) is refused, the connection usable", async () => {
  // Room for a frame that long (the default 1 MiB frame holds fewer entries).
  const big = await startServer({ maxChunk: 4 * 1024 * 1024 });
  const c = await ProtocolConnection.open(big.port);
  try {
    await fs.mkdir(path.join(big.root, "t"));
    const entries = Array.from({ length: 100_001 }, () => ({ path: "a", size: 0 }));
    await c.send({ op: "PUTTREE", path: "/t", offer: true });
    await sendOffer(c, [entries]);
    assertError(await c.reply(), "BFTP_ERR_BAD_REQUEST");
    // 100,000 in a frame is within it.
    await c.send({ op: "PUTTREE", path: "/t", offer: true });
    await sendOffer(c, [entries.slice(1)]);
    assertOk(await c.reply());
    const { frames, trailer } = await c.readData();
    assertOk(trailer);
    assert.deepEqual(
      frames.map((f) => f.toString("utf8")),
      ["[]"],
    ); // "a" is not there
    assert.equal((await records(c)).reply["held"], 0);
  } finally {
    c.close();
    await big.stop();
  }
});

test("a PUTTREE without an offer answers as before: no held phase, no held count", async () => {
  assertOk(await conn.request({ op: "PUTTREE", path: "/t" }));
  const { reply } = await records(conn);
  assert.deepEqual(reply, { ok: true, files: 0, committed: 0, failed: 0, bytes: 0 });
});
