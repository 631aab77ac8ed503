import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { HEX_SIZE_HEADER, encodeFrame, writeAll } from "../../src/wire/index.js";
import { assertError, assertOk } from "../helpers/assert-reply.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection, crc32, type Body } from "../helpers/protocol-connection.js";
import { waitUntil } from "../helpers/wait-until.js";

// PROTOCOL.md §8.8 (resumable), §8.11 RESUME and §10: an interrupted resumable upload is kept,
// RESUME reports its length and SHA-256, a PUT at that offset completes it.

const CHUNK = 64 * 1024;

let srv: TestServer;

before(async () => {
  srv = await startServer({ maxChunk: CHUNK });
});

after(() => srv.stop());

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Run again against an object store by s3-sessions.test.ts (BFTP_TEST_BACKEND=s3). */
const onS3 = process.env["BFTP_TEST_BACKEND"] === "s3";

/** What uploads left in the served tree (test-files.ts: reserved names, or S3's partials). */
function leftovers(): Promise<string[]> {
  return srv.files.leftovers();
}

/**
 * Starts a PUT with `fields`, sends `sent` of its data (whole frames, then part of one), and
 * ends the connection without the terminator; resolves once the server has ended the session.
 */
async function interruptedPut(pathName: string, sent: Buffer, fields: object): Promise<void> {
  const conn = await ProtocolConnection.open(srv.port);
  const frames: Buffer[] = [encodeFrame(JSON.stringify({ op: "PUT", path: pathName, ...fields }))];
  let at = 0;
  for (; at + CHUNK <= sent.length; at += CHUNK) {
    frames.push(HEX_SIZE_HEADER.encode(CHUNK), sent.subarray(at, at + CHUNK));
  }
  if (at < sent.length) frames.push(HEX_SIZE_HEADER.encode(CHUNK), sent.subarray(at)); // cut short
  await writeAll(conn.socket, frames);
  conn.socket.end();
  await conn.closed();
  await waitUntil(() => srv.server.connections === 0, "the interrupted session has ended");
}

async function put(
  conn: ProtocolConnection,
  pathName: string,
  data: Buffer,
  fields: object,
): Promise<Body> {
  await conn.send({ op: "PUT", path: pathName, ...fields });
  await conn.sendData(data, { chunk: CHUNK });
  return conn.reply();
}

test("RESUME with no partial upload kept is BFTP_ERR_NOT_FOUND", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    assertError(await conn.request({ op: "RESUME", path: "/never.bin" }), "BFTP_ERR_NOT_FOUND");
    assertError(await conn.request({ op: "RESUME", path: "/no/dir.bin" }), "BFTP_ERR_NOT_FOUND");
    assertError(await conn.request({ op: "RESUME", path: "../x" }), "BFTP_ERR_PATH_REFUSED");
  } finally {
    conn.close();
  }
});

test("an interrupted resumable PUT is reported by RESUME and completed by PUT at its offset", async () => {
  const whole = randomBytes(7 * CHUNK + 999);
  const kept = 3 * CHUNK;
  await interruptedPut("/movie.bin", whole.subarray(0, kept), { resumable: true });

  const conn = await ProtocolConnection.open(srv.port);
  try {
    assertError(await conn.request({ op: "STAT", path: "/movie.bin" }), "BFTP_ERR_NOT_FOUND");
    const listed = await conn.list("/");
    assert.deepEqual(listed.entries, [], "the partial upload is never listed");
    assert.deepEqual(await conn.request({ op: "RESUME", path: "/movie.bin", tag: "r" }), {
      ok: true,
      offset: kept,
      sha256: sha256(whole.subarray(0, kept)),
      tag: "r",
    });
    const rest = whole.subarray(kept);
    assert.deepEqual(
      await put(conn, "/movie.bin", rest, { offset: kept, resumable: true, size: whole.length }),
      // The trailer's checksum, and so the reply's, covers only this data phase's bytes (§10).
      { ok: true, size: whole.length, checksum: { alg: "crc32", value: crc32(rest) } },
    );
    assert.ok((await srv.files.read("movie.bin")).equals(whole));
    assertError(await conn.request({ op: "RESUME", path: "/movie.bin" }), "BFTP_ERR_NOT_FOUND");
    assert.deepEqual(await leftovers(), []);
  } finally {
    conn.close();
  }
});

test("the partial upload keeps every byte received, even part of a frame", async () => {
  const whole = randomBytes(2 * CHUNK);
  const kept = CHUNK + 1234;
  await interruptedPut("/partial-frame.bin", whole.subarray(0, kept), { resumable: true });
  const conn = await ProtocolConnection.open(srv.port);
  try {
    assert.deepEqual(await conn.request({ op: "RESUME", path: "/partial-frame.bin" }), {
      ok: true,
      offset: kept,
      sha256: sha256(whole.subarray(0, kept)),
    });
    assertOk(
      await put(conn, "/partial-frame.bin", whole.subarray(kept), {
        offset: kept,
        resumable: true,
      }),
    );
    assert.ok((await srv.files.read("partial-frame.bin")).equals(whole));
  } finally {
    conn.close();
  }
});

test("PUT at an offset that is not the partial upload's length is BFTP_ERR_BAD_RANGE", async () => {
  const whole = randomBytes(4 * CHUNK);
  await interruptedPut("/mismatch.bin", whole.subarray(0, 2 * CHUNK), { resumable: true });
  const conn = await ProtocolConnection.open(srv.port);
  try {
    for (const offset of [CHUNK, 2 * CHUNK + 1, 4 * CHUNK]) {
      const reply = await put(conn, "/mismatch.bin", whole.subarray(offset), {
        offset,
        resumable: true,
      });
      assertError(reply, "BFTP_ERR_BAD_RANGE");
    }
    // Refused without touching the partial upload, and the connection stays in step.
    assert.deepEqual(await conn.request({ op: "RESUME", path: "/mismatch.bin" }), {
      ok: true,
      offset: 2 * CHUNK,
      sha256: sha256(whole.subarray(0, 2 * CHUNK)),
    });
    assertError(
      await put(conn, "/other.bin", Buffer.from("x"), { offset: 5, resumable: true }),
      "BFTP_ERR_BAD_RANGE",
    );
  } finally {
    conn.close();
  }
});

test("a resumable PUT at offset 0 starts over, replacing the partial upload", async () => {
  const first = randomBytes(3 * CHUNK);
  const before = await leftovers();
  await interruptedPut("/restart.bin", first.subarray(0, 2 * CHUNK), { resumable: true });
  const conn = await ProtocolConnection.open(srv.port);
  try {
    const fresh = randomBytes(CHUNK + 5);
    assertOk(await put(conn, "/restart.bin", fresh, { resumable: true }));
    assert.ok((await srv.files.read("restart.bin")).equals(fresh));
    assertError(await conn.request({ op: "RESUME", path: "/restart.bin" }), "BFTP_ERR_NOT_FOUND");
    assert.deepEqual(await leftovers(), before);
  } finally {
    conn.close();
  }
});

test("a partial upload belongs to its path", async () => {
  await interruptedPut("/dir-a.bin", randomBytes(CHUNK), { resumable: true });
  const conn = await ProtocolConnection.open(srv.port);
  try {
    assertOk(await conn.request({ op: "RESUME", path: "/dir-a.bin" }));
    assertError(await conn.request({ op: "RESUME", path: "/dir-b.bin" }), "BFTP_ERR_NOT_FOUND");
  } finally {
    conn.close();
  }
});

test("an interrupted upload without resumable leaves nothing behind", async () => {
  const before = await leftovers();
  await interruptedPut("/gone.bin", randomBytes(3 * CHUNK + 10), {});
  await interruptedPut("/gone.bin", randomBytes(CHUNK), { resumable: false });
  assert.deepEqual(await leftovers(), before);
  assert.equal(await srv.files.exists("gone.bin"), false);
  const conn = await ProtocolConnection.open(srv.port);
  try {
    assertError(await conn.request({ op: "RESUME", path: "/gone.bin" }), "BFTP_ERR_NOT_FOUND");
  } finally {
    conn.close();
  }
});

test(
  "RESUME of a link that leads out of the root is BFTP_ERR_PATH_REFUSED, as for every command",
  { skip: onS3 && "an object store has no symbolic links" },
  async () => {
    // Issue 11, item 10: it answered BFTP_ERR_NOT_FOUND (no partial kept) where GET, STAT and
    // HASH refuse the path.
    await fs.writeFile(path.join(srv.outside, "secret.bin"), "outside");
    await fs.symlink(path.join(srv.outside, "secret.bin"), path.join(srv.root, "out-file"));
    await fs.symlink(srv.outside, path.join(srv.root, "out-dir"));
    await fs.writeFile(path.join(srv.root, "in.bin"), "inside");
    await fs.symlink("in.bin", path.join(srv.root, "in-link"));
    const conn = await ProtocolConnection.open(srv.port);
    try {
      for (const refused of ["/out-file", "/out-dir", "/out-dir/secret.bin"]) {
        assertError(await conn.request({ op: "RESUME", path: refused }), "BFTP_ERR_PATH_REFUSED");
        assertError(await conn.request({ op: "STAT", path: refused }), "BFTP_ERR_PATH_REFUSED");
      }
      // A link that stays inside is no refusal: there is just no partial kept for it.
      assertError(await conn.request({ op: "RESUME", path: "/in-link" }), "BFTP_ERR_NOT_FOUND");
    } finally {
      conn.close();
    }
  },
);
