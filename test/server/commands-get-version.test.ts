// Issue 11, item 1: GET and HASH report the version of the file they read (PROTOCOL.md §8.7,
// §8.10), GET's ifVersion makes a resume's two requests one version, and a file that
// changes while GET prepares a small range or HASH reads it is read again, not mixed.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { RACY_MS, sameVersion, settledStats } from "../../src/server/file-version.js";
import { assertError, assertOk } from "../helpers/assert-reply.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { hookFileReads } from "../helpers/file-read-hook.js";
import { ProtocolConnection } from "../helpers/protocol-connection.js";

const MiB = 1024 * 1024;

/** Run again against an object store by s3-sessions.test.ts (BFTP_TEST_BACKEND=s3). */
const onS3 = process.env["BFTP_TEST_BACKEND"] === "s3";
/** The tests that change a file between two of the server's disk reads (a read hook). */
const DISK_READS =
  onS3 && "it changes the file between two disk reads; on S3 each read is pinned by If-Match";

let srv: TestServer;
let conn: ProtocolConnection;
let reads: Awaited<ReturnType<typeof hookFileReads>>;

before(async () => {
  srv = await startServer();
  reads = await hookFileReads(path.join(srv.outside, "probe"));
  conn = await ProtocolConnection.open(srv.port);
});

after(async () => {
  reads.restore();
  conn.close();
  await srv.stop();
});

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

test("GET and HASH of an unchanged file report the same opaque version; a change gives another", async () => {
  const content = randomBytes(100_000);
  await srv.files.write("v.bin", content);
  const got = await conn.get("/v.bin");
  assertOk(got.reply);
  const version = got.reply["version"];
  assert.equal(typeof version, "string");
  assert.match(version as string, /^[0-9a-f]{16}$/);
  const hashed = await conn.request({ op: "HASH", path: "/v.bin", offset: 0, length: 10 });
  assert.equal(hashed["version"], version);
  await srv.files.write("v.bin", Buffer.concat([content, Buffer.from("x")]));
  const again = await conn.request({ op: "HASH", path: "/v.bin" });
  assert.notEqual(again["version"], version);
});

test("GET with ifVersion: the version sends the range; another version is FILE_CHANGED with no data phase", async () => {
  const first = randomBytes(3 * MiB);
  await srv.files.write("resume.bin", first);
  const hashed = await conn.request({ op: "HASH", path: "/resume.bin", offset: 0, length: MiB });
  const version = hashed["version"] as string;
  const rest = await conn.get("/resume.bin", { offset: MiB, ifVersion: version });
  assertOk(rest.reply);
  assert.equal(rest.reply["version"], version);
  assert.ok(rest.data?.equals(first.subarray(MiB)));
  // Rewritten in place at the same size, as `cp` does, between the HASH and the GET.
  await srv.files.write("resume.bin", randomBytes(3 * MiB));
  const refused = await conn.get("/resume.bin", { offset: MiB, ifVersion: version });
  assertError(refused.reply, "BFTP_ERR_FILE_CHANGED");
  assert.equal(refused.data, undefined);
  const small = await conn.get("/resume.bin", { offset: 3 * MiB - 10, ifVersion: "0000" });
  assertError(small.reply, "BFTP_ERR_FILE_CHANGED");
  assertOk(await conn.request({ op: "NOOP" })); // still in step
});

test(
  "a small file truncated while GET prepares it is read again: the reply and bytes are the new version",
  { skip: DISK_READS },
  async () => {
    const file = path.join(srv.root, "small.txt");
    await fsp.writeFile(file, "0123456789".repeat(100));
    reads.arm(() => {
      fs.truncateSync(file, 10);
    }, 0);
    const { reply, data, trailer } = await conn.get("/small.txt");
    assert.ok(reads.fired());
    assertOk(reply);
    assert.equal(reply["size"], 10);
    assert.equal(reply["length"], 10);
    assert.equal(data?.toString(), "0123456789");
    assert.equal(trailer?.ok, true);
  },
);

test(
  "HASH of a file rewritten while it is hashed is the hash of one version, with that version",
  { skip: DISK_READS },
  async () => {
    const file = path.join(srv.root, "hashed.bin");
    await fsp.writeFile(file, randomBytes(4 * MiB));
    const next = randomBytes(4 * MiB);
    reads.arm(() => {
      fs.writeFileSync(file, next);
    }, 2 * MiB);
    const reply = await conn.request({ op: "HASH", path: "/hashed.bin" });
    assert.ok(reads.fired());
    assertOk(reply);
    assert.equal(reply["value"], sha256(next));
    const got = await conn.request({ op: "GET", path: "/hashed.bin", length: 0 });
    assert.equal(got["version"], reply["version"]);
    await conn.readData();
  },
);

test("settled stats: a file changed just now is waited for until a later write must move its stamps", async () => {
  const file = path.join(srv.outside, "racy.bin");
  await fsp.writeFile(file, "fresh");
  const handle = await fsp.open(file, "r");
  try {
    const stats = await settledStats(handle, "/racy.bin");
    assert.ok(Date.now() - Number(stats.ctimeMs) >= RACY_MS, "the stamp is a window old");
    // A write now lands in a later clock tick: its stamps differ from the settled ones.
    await fsp.appendFile(file, "!");
    assert.equal(sameVersion(stats, await handle.stat({ bigint: true })), false);
  } finally {
    await handle.close();
  }
});

test("a link-count change alone (a file renamed over this one) is not a change of content", async () => {
  const file = path.join(srv.outside, "linked.bin");
  await fsp.writeFile(file, "same bytes");
  const handle = await fsp.open(file, "r");
  try {
    const before = await settledStats(handle, "/linked.bin");
    await fsp.writeFile(`${file}.new`, "other");
    await fsp.rename(`${file}.new`, file); // unlinks the open file: its ctime moves
    const now = await handle.stat({ bigint: true });
    assert.notEqual(now.ctimeNs, before.ctimeNs);
    assert.equal(sameVersion(before, now), true);
  } finally {
    await handle.close();
  }
});
