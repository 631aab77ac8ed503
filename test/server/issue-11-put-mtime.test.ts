import assert from "node:assert/strict";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { assertOk } from "../helpers/assert-reply.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection } from "../helpers/protocol-connection.js";
import { exactSeconds } from "../../src/exact-seconds.js";

// Issue 11, item 9: PUT with `mtime` must store exactly that millisecond, and STAT, LIST and
// GET must report it back unchanged. Before the fix 1700000000123 was stored as
// 1700000000122.999906 (the time went through a Date and float seconds, and libuv truncates
// to whole microseconds), so it read back as 1700000000122.

/** Times with awkward fractions: .123 (the report), .999, .001, whole seconds, far ones. */
const TIMES = [
  1700000000123, 1700000000999, 1700000000001, 1700000000000, 1700000000500, 999, 1, 0,
  1234567890987, 2147483647999, 4102444799999, 4294967295999,
];

let srv: TestServer;
let conn: ProtocolConnection;

before(async () => {
  srv = await startServer();
  conn = await ProtocolConnection.open(srv.port);
});

after(async () => {
  conn.close();
  await srv.stop();
});

/** The file's mtime in whole milliseconds, from its nanoseconds (no float rounding). */
async function storedMs(name: string): Promise<number> {
  const stats = await fs.stat(path.join(srv.root, name), { bigint: true });
  return Number(stats.mtimeNs / 1_000_000n);
}

test("PUT stores the mtime it is given to the millisecond", async () => {
  for (const [i, mtime] of TIMES.entries()) {
    const name = `stored-${i}.txt`;
    assertOk(await conn.put(`/${name}`, Buffer.from(`version ${i}`), { mtime }));
    assert.equal(await storedMs(name), mtime, `mtime ${mtime}`);
    // Exactly on the millisecond: nothing below it either, so every reader agrees.
    const stats = await fs.stat(path.join(srv.root, name), { bigint: true });
    assert.equal(stats.mtimeNs % 1_000_000n, 0n, `mtime ${mtime}: ${stats.mtimeNs} ns`);
  }
});

test("STAT, LIST and GET report a PUT's mtime back unchanged", async () => {
  await conn.request({ op: "MKDIR", path: "/listed" });
  for (const [i, mtime] of TIMES.entries()) {
    const name = `back-${i}.bin`;
    assertOk(await conn.put(`/listed/${name}`, Buffer.from([i]), { mtime, overwrite: true }));
    const stat = await conn.request({ op: "STAT", path: `/listed/${name}` });
    assertOk(stat);
    assert.equal((stat["entry"] as { mtime: number }).mtime, mtime, `STAT of ${mtime}`);
    const got = await conn.get(`/listed/${name}`);
    assertOk(got.reply);
    assert.equal(got.reply["mtime"], mtime, `GET of ${mtime}`);
  }
  const listed = await conn.list("/listed");
  const byName = new Map(listed.entries?.map((e) => [e["name"], e["mtime"]]));
  for (const [i, mtime] of TIMES.entries()) {
    assert.equal(byName.get(`back-${i}.bin`), mtime, `LIST of ${mtime}`);
  }
});

test("exactSeconds lands on the millisecond after libuv's truncation to microseconds", () => {
  // libuv: tv_sec = (long) t; tv_nsec = (t - tv_sec) * 1e9, less what is below 1 µs.
  const stored = (seconds: number): number => {
    const whole = Math.trunc(seconds);
    const ns = (seconds - whole) * 1e9;
    return whole * 1000 + Math.trunc((ns - (ns % 1000)) / 1e6);
  };
  for (let ms = 1700000000000; ms < 1700000002000; ms++) {
    assert.equal(stored(exactSeconds(ms)), ms, `${ms}`);
  }
  assert.notEqual(stored(1700000000123 / 1000), 1700000000123, "the float seconds lost it");
});
