import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { HEX_SIZE_HEADER, encodeFrame, writeAll } from "../../src/wire/index.js";
import { assertOk } from "../helpers/assert-reply.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection, crc32 } from "../helpers/protocol-connection.js";

// PROTOCOL.md §4.2: a client may send any number of requests before reading a reply; the
// server executes them in order and replies in order. The acceptance: 1,000 requests
// on one connection, replies in order.

// On the S3 backend every PUT is a multipart upload on the gateway: 1,000 of them took about
// a minute of the suite's 15 on two cores, and 250 exercise the same ordering under the same
// backpressure (the read-ahead below is what makes the server stop reading, not the count).
const COUNT = process.env["BFTP_TEST_BACKEND"] === "s3" ? 250 : 1000;
const SMALL_FILES = 10;

let srv: TestServer;

before(async () => {
  // A small read-ahead makes the server stop reading many times during the run: the order
  // must survive TCP backpressure, not only a server that swallows everything at once.
  srv = await startServer({ readAheadBytes: 4096 });
  for (let i = 0; i < SMALL_FILES; i++) {
    await srv.files.write(`small-${i}.txt`, contentOf(i));
  }
});

after(() => srv.stop());

function contentOf(i: number): Buffer {
  return Buffer.from(`file ${i}: ${"x".repeat(i * 37)}\n`);
}

function frameOf(request: object): Buffer {
  return encodeFrame(JSON.stringify(request));
}

/** One PUT request and its whole data phase, as bytes. */
function putFrames(pathName: string, data: Buffer, tag: number): Buffer[] {
  return [
    frameOf({ op: "PUT", path: pathName, tag }),
    HEX_SIZE_HEADER.encode(data.length),
    data,
    HEX_SIZE_HEADER.encode(0),
    frameOf({ ok: true, checksum: { alg: "crc32", value: crc32(data) } }),
  ];
}

test("1,000 mixed requests written in one go are answered in order", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    const kinds = ["STAT", "PWD", "GET", "NOOP"] as const;
    const requests = Array.from({ length: COUNT }, (_, i) => {
      const kind = kinds[i % kinds.length] ?? "NOOP";
      const file = `/small-${i % SMALL_FILES}.txt`;
      if (kind === "STAT" || kind === "GET") return { op: kind, path: file, tag: i };
      return { op: kind, tag: kind === "PWD" ? `pwd-${i}` : i };
    });
    // Everything leaves before the first reply is read.
    await writeAll(conn.socket, requests.map(frameOf));
    for (const [i, request] of requests.entries()) {
      const reply = await conn.reply();
      assertOk(reply);
      assert.equal(reply["tag"], request.tag, `reply ${i} is out of order`);
      const file = contentOf(i % SMALL_FILES);
      switch (request.op) {
        case "STAT":
          assert.deepEqual(
            { ...(reply["entry"] as object), mtime: 0 },
            { name: `small-${i % SMALL_FILES}.txt`, type: "file", size: file.length, mtime: 0 },
          );
          break;
        case "PWD":
          assert.equal(reply["path"], "/");
          break;
        case "GET": {
          assert.equal(reply["length"], file.length);
          const { data, trailer } = await conn.readData();
          assert.deepEqual(data, file);
          assert.deepEqual(trailer, { ok: true, checksum: { alg: "crc32", value: crc32(file) } });
          break;
        }
        default:
          assert.deepEqual(reply, { ok: true, tag: i });
      }
    }
    assertOk(await conn.request({ op: "NOOP" }));
  } finally {
    conn.close();
  }
});

test(`${COUNT} pipelined PUTs, then ${COUNT} pipelined GETs, all correct`, async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    assertOk(await conn.request({ op: "MKDIR", path: "/many" }));
    const files = Array.from({ length: COUNT }, (_, i) =>
      Buffer.from(`upload ${i} ${"abcdefghij".repeat(i % 50)}`),
    );
    await writeAll(
      conn.socket,
      files.flatMap((data, i) => putFrames(`/many/f-${i}.bin`, data, i)),
    );
    for (const [i, data] of files.entries()) {
      const reply = await conn.reply();
      assert.deepEqual(reply, {
        ok: true,
        size: data.length,
        checksum: { alg: "crc32", value: crc32(data) },
        tag: i,
      });
    }
    for (const [i, data] of files.entries()) {
      assert.deepEqual(await srv.files.read(`many/f-${i}.bin`), data);
    }

    await writeAll(
      conn.socket,
      files.map((_, i) => frameOf({ op: "GET", path: `/many/f-${i}.bin`, tag: i })),
    );
    for (const [i, data] of files.entries()) {
      const reply = await conn.reply();
      assertOk(reply);
      assert.equal(reply["tag"], i);
      assert.equal(reply["size"], data.length);
      const got = await conn.readData();
      assert.deepEqual(got.data, data, `GET ${i}`);
      assert.deepEqual(got.trailer, { ok: true, checksum: { alg: "crc32", value: crc32(data) } });
    }
    const names = await srv.files.list("many");
    assert.equal(names.length, COUNT, "no temporary file is left beside the uploads");
  } finally {
    conn.close();
  }
});

test("errors in the middle of a pipeline keep their place and the stream in step", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    const data = Buffer.from("in step");
    const frames: Buffer[] = [];
    for (let i = 0; i < 300; i++) {
      if (i % 3 === 0) frames.push(frameOf({ op: "STAT", path: `/missing-${i}`, tag: i }));
      else if (i % 3 === 1)
        frames.push(...putFrames("/small-0.txt", data, i)); // exists: refused
      else frames.push(frameOf({ op: "NOPE", tag: i }));
    }
    await writeAll(conn.socket, frames);
    for (let i = 0; i < 300; i++) {
      const reply = await conn.reply();
      const expected =
        i % 3 === 0
          ? "BFTP_ERR_NOT_FOUND"
          : i % 3 === 1
            ? "BFTP_ERR_EXISTS"
            : "BFTP_ERR_UNKNOWN_COMMAND";
      assert.equal(reply.ok, false);
      assert.equal(reply.error?.code, expected, `reply ${i}`);
      assert.equal(reply["tag"], i);
    }
    assert.deepEqual(await srv.files.read("small-0.txt"), contentOf(0));
    assertOk(await conn.request({ op: "NOOP" }));
  } finally {
    conn.close();
  }
});
