import assert from "node:assert/strict";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { assertError, assertOk } from "../helpers/assert-reply.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection, crc32 } from "../helpers/protocol-connection.js";

// PROTOCOL.md §8.6 LIST: entries as JSON arrays of at most 64 KiB per data frame, a trailer
// with the count and the checksum of the frames' bytes; temporary files never listed.

const MANY = 3000;
const FRAME_LIMIT = 64 * 1024;

/** Run again against the S3 backend by test/server/s3-sessions.test.ts. */
const onS3 = process.env["BFTP_TEST_BACKEND"] === "s3";

let srv: TestServer;
let conn: ProtocolConnection;

before(async () => {
  srv = await startServer();
  await srv.files.mkdir("docs/sub");
  await srv.files.write("docs/a.txt", "alpha");
  await srv.files.write("docs/b.bin", Buffer.alloc(1234));
  // An object store has no links.
  if (!onS3) await fs.symlink("a.txt", path.join(srv.root, "docs", "a-link"));
  // What an upload in progress and a kept partial upload look like on disk.
  await srv.files.write("docs/.bftp-part-0123456789abcdef", "partial");
  await srv.files.write("docs/.bftp-resume-0123456789abcdef", "partial");
  await srv.files.write("docs/.hidden", "a dotfile is listed");
  await srv.files.mkdir("empty");
  await srv.files.mkdir("many");
  const names = Array.from({ length: MANY }, (_, i) => nameOf(i));
  for (let at = 0; at < names.length; at += 200) {
    await Promise.all(names.slice(at, at + 200).map((name) => srv.files.write(`many/${name}`, "")));
  }
  conn = await ProtocolConnection.open(srv.port);
});

after(async () => {
  conn.close();
  await srv.stop();
});

function nameOf(i: number): string {
  return `entry-${String(i).padStart(5, "0")}-${"n".repeat(40)}.txt`;
}

/** LIST through the raw data phase: the frames as sent, and the trailer. */
async function rawList(
  request: object,
): Promise<{ reply: Record<string, unknown>; frames: Buffer[]; trailer: Record<string, unknown> }> {
  const reply = await conn.request(request);
  assertOk(reply);
  const { frames, trailer } = await conn.readData();
  return { reply, frames, trailer };
}

test("LIST sends every entry with its type, size and mtime, and hides temporary files", async () => {
  const { reply, frames, trailer } = await rawList({ op: "LIST", path: "/docs" });
  assert.deepEqual(reply, { ok: true, path: "/docs" });
  const entries = frames.flatMap(
    (f) => JSON.parse(f.toString("utf8")) as Record<string, unknown>[],
  );
  const byName = new Map(entries.map((e) => [e["name"], e]));
  const links = onS3 ? [] : ["a-link"]; // an object store has no links
  assert.deepEqual([...byName.keys()].sort(), [".hidden", ...links, "a.txt", "b.bin", "sub"]);
  const mtime = async (name: string): Promise<number> =>
    onS3
      ? srv.files.mtime(`docs/${name}`)
      : Math.trunc((await fs.lstat(path.join(srv.root, "docs", name))).mtimeMs);
  assert.deepEqual(byName.get("a.txt"), {
    name: "a.txt",
    type: "file",
    size: 5,
    mtime: await mtime("a.txt"),
  });
  assert.deepEqual(byName.get("b.bin"), {
    name: "b.bin",
    type: "file",
    size: 1234,
    mtime: await mtime("b.bin"),
  });
  assert.deepEqual(byName.get("sub"), {
    name: "sub",
    type: "dir",
    size: 0,
    // A folder in an object store is a prefix: it has no time of its own (S3Storage).
    mtime: onS3 ? 0 : await mtime("sub"),
  });
  // LIST reports links as links (§8); STAT follows them.
  if (!onS3) {
    assert.deepEqual(byName.get("a-link"), {
      name: "a-link",
      type: "symlink",
      size: 0,
      mtime: await mtime("a-link"),
    });
  }
  assert.deepEqual(trailer, {
    ok: true,
    count: onS3 ? 4 : 5,
    checksum: { alg: "crc32", value: crc32(Buffer.concat(frames)) },
  });
});

test("LIST without a path lists the working directory", async () => {
  assertOk(await conn.request({ op: "CD", path: "/docs/sub" }));
  const listed = await conn.list();
  assert.deepEqual(listed.reply, { ok: true, path: "/docs/sub" });
  assert.deepEqual(listed.entries, []);
  assertOk(await conn.request({ op: "CD", path: "/" }));
  const root = await conn.list();
  assert.deepEqual(root.reply, { ok: true, path: "/" });
  assert.deepEqual(root.entries?.map((e) => e["name"]).sort(), ["docs", "empty", "many"]);
});

test("LIST of an empty directory is a data phase with no data frame and count 0", async () => {
  const { frames, trailer } = await rawList({ op: "LIST", path: "empty" });
  assert.equal(frames.length, 0);
  assert.deepEqual(trailer, { ok: true, count: 0, checksum: { alg: "crc32", value: "00000000" } });
});

test(`LIST of ${MANY} entries spans several frames, each a JSON array of at most 64 KiB`, async () => {
  const { frames, trailer } = await rawList({ op: "LIST", path: "/many" });
  assert.ok(frames.length > 1, `${frames.length} frame(s)`);
  const names: string[] = [];
  for (const frame of frames) {
    assert.ok(frame.length <= FRAME_LIMIT, `a frame of ${frame.length} bytes`);
    const entries = JSON.parse(frame.toString("utf8")) as unknown;
    assert.ok(Array.isArray(entries));
    assert.ok(entries.length > 0, "no empty array frames");
    for (const entry of entries as Record<string, unknown>[]) {
      assert.equal(entry["type"], "file");
      names.push(entry["name"] as string);
    }
  }
  assert.equal(trailer["count"], names.length);
  assert.equal(names.length, MANY);
  assert.deepEqual(
    names.sort(),
    Array.from({ length: MANY }, (_, i) => nameOf(i)),
  );
  assert.deepEqual(trailer["checksum"], { alg: "crc32", value: crc32(Buffer.concat(frames)) });
  assertOk(await conn.request({ op: "NOOP" }));
});

test("LIST of a missing directory is BFTP_ERR_NOT_FOUND, without a data phase", async () => {
  assertError(await conn.request({ op: "LIST", path: "/nope" }), "BFTP_ERR_NOT_FOUND");
  assert.deepEqual(await conn.request({ op: "NOOP", tag: 1 }), { ok: true, tag: 1 });
});

test("LIST of a file is BFTP_ERR_NOT_A_DIRECTORY", async () => {
  assertError(await conn.request({ op: "LIST", path: "/docs/a.txt" }), "BFTP_ERR_NOT_A_DIRECTORY");
  assert.deepEqual(await conn.request({ op: "NOOP", tag: 2 }), { ok: true, tag: 2 });
});

test("LIST above the root or of a reserved name is BFTP_ERR_PATH_REFUSED", async () => {
  for (const bad of ["..", "/docs/../../x", "/docs/.bftp-part-0123456789abcdef"]) {
    assertError(await conn.request({ op: "LIST", path: bad }), "BFTP_ERR_PATH_REFUSED");
  }
});
