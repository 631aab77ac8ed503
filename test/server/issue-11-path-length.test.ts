import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { isBftpError } from "../../src/errors.js";
import { MAX_PATH_BYTES, MAX_REAL_PATH_BYTES, normalizeVirtual } from "../../src/server/sandbox.js";
import { assertError, assertOk } from "../helpers/assert-reply.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection } from "../helpers/protocol-connection.js";

// Issue 11, items 8 and 10b. Paths of 4,094 to 4,096 bytes were refused although §6 allows
// 4,096: the real path (root joined with the virtual path) passed the system's PATH_MAX, and
// the refusal said the path was malformed. MKDIR with `parents` on a 4,096-byte path made
// 2,035 nested folders, failed with BFTP_ERR_INTERNAL (the kernel cannot name a descriptor's
// folder past PATH_MAX) and left them all behind. §6 now measures both lengths exactly, a
// path too long for the server's disk is BFTP_ERR_PATH_TOO_LONG before anything is touched,
// and a `mkdir -p` that fails part-way removes what it made.

let srv: TestServer;
let conn: ProtocolConnection;
/** Bytes of the served root's real path. */
let rootBytes: number;

/** An absolute virtual path of exactly `n` bytes, in components of at most 200 bytes. */
function pathOf(n: number, letter = "d"): string {
  let out = "";
  while (out.length < n) {
    const room = n - out.length - 1; // the slash
    out += `/${letter.repeat(Math.min(200, room))}`;
    if (room === 0) throw new Error("a path cannot end in an empty component");
  }
  assert.equal(Buffer.byteLength(out), n);
  return out;
}

/** Every path below `dir`, relative, sorted (the trees here are shallow enough to name). */
async function treeOf(dir: string): Promise<string[]> {
  const found = await fs.readdir(dir, { recursive: true });
  return found.sort();
}

before(async () => {
  srv = await startServer();
  rootBytes = Buffer.byteLength(srv.root);
  conn = await ProtocolConnection.open(srv.port);
});

after(async () => {
  conn.close();
  try {
    await srv.stop();
  } catch {
    // A tree deeper than PATH_MAX (left by a regression) defeats fs.rm; rm(1) walks it by
    // descriptors.
    execFileSync("rm", ["-rf", path.dirname(srv.root)]);
  }
});

test("§6: the path as sent may be 4,096 bytes, and is measured before normalisation", () => {
  for (const n of [4095, 4096]) assert.equal(normalizeVirtual("/", pathOf(n)), pathOf(n));
  assert.equal(MAX_PATH_BYTES, 4096);
  const refused = (fn: () => unknown): void => {
    assert.throws(fn, (err: unknown) => isBftpError(err, "BFTP_ERR_PATH_REFUSED"));
  };
  refused(() => normalizeVirtual("/", pathOf(4097)));
  // 4,097 bytes as sent, though "./" steps would make it short: refused as sent.
  refused(() => normalizeVirtual("/", `${"./".repeat(2047)}abc`));
  // A relative path of 4,095 bytes under /ab is a virtual path of 4,099 bytes: refused.
  refused(() => normalizeVirtual("/ab", pathOf(4096).slice(1)));
  assert.equal(normalizeVirtual("/", pathOf(4096).slice(1)), pathOf(4096));
});

test("10b: 4,095 and 4,096 bytes pass §6, so the server's disk limit answers PATH_TOO_LONG; 4,097 is PATH_REFUSED", async () => {
  for (const n of [4095, 4096]) {
    for (const op of ["STAT", "LIST", "GET", "HASH", "DELETE", "MKDIR"]) {
      assertError(await conn.request({ op, path: pathOf(n) }), "BFTP_ERR_PATH_TOO_LONG");
    }
    assertError(
      await conn.request({ op: "MKDIR", path: pathOf(n), parents: true }),
      "BFTP_ERR_PATH_TOO_LONG",
    );
  }
  for (const op of ["STAT", "MKDIR"]) {
    assertError(await conn.request({ op, path: pathOf(4097) }), "BFTP_ERR_PATH_REFUSED");
  }
  assertOk(await conn.request({ op: "NOOP" })); // none of them was fatal
  assert.deepEqual(await fs.readdir(srv.root), [], "nothing was created");
});

test("10b: under a root of r bytes, a virtual path of 4,095 − r bytes works and one byte more is refused", async () => {
  const longest = MAX_REAL_PATH_BYTES - rootBytes;
  const fits = pathOf(longest, "f");
  assertOk(await conn.request({ op: "MKDIR", path: fits, parents: true }));
  const stat = await conn.request({ op: "STAT", path: fits });
  assertOk(stat);
  assert.equal((stat["entry"] as { type: string }).type, "dir");
  const before = await treeOf(srv.root);
  const over = pathOf(longest + 1, "g");
  assertError(
    await conn.request({ op: "MKDIR", path: over, parents: true }),
    "BFTP_ERR_PATH_TOO_LONG",
  );
  assertError(await conn.request({ op: "STAT", path: over }), "BFTP_ERR_PATH_TOO_LONG");
  assert.deepEqual(await treeOf(srv.root), before, "the refused MKDIR created nothing");
  await fs.rm(path.join(srv.root, "f".repeat(200)), { recursive: true });
});

test("item 8: MKDIR with parents failing part-way removes the folders it made, and only those", async () => {
  // A real folder whose path is near the system's limit, reached through a short link: the
  // virtual path is short, so the length check passes, and creation fails part-way down.
  const nearLimit = MAX_REAL_PATH_BYTES - 60 - rootBytes;
  const deepVirtual = pathOf(nearLimit, "e");
  const deepReal = path.join(srv.root, deepVirtual);
  await fs.mkdir(path.join(deepReal, "kept"), { recursive: true });
  await fs.symlink(deepReal, path.join(srv.root, "link"));
  const steps = Array.from({ length: 12 }, () => "b".repeat(9)).join("/");
  const reply = await conn.request({ op: "MKDIR", path: `/link/kept/${steps}`, parents: true });
  assertError(reply, "BFTP_ERR_PATH_TOO_LONG");
  assert.deepEqual(await fs.readdir(deepReal), ["kept"], "the folder that existed stays");
  assert.deepEqual(await fs.readdir(path.join(deepReal, "kept")), [], "what it made is gone");
  // The same request, short enough to fit, succeeds: the connection and the tree are sound.
  const fitting = `/link/kept/${"b".repeat(9)}/${"b".repeat(9)}`;
  assertOk(await conn.request({ op: "MKDIR", path: fitting, parents: true }));
  assert.deepEqual(await fs.readdir(path.join(deepReal, "kept")), ["b".repeat(9)]);
  await fs.rm(path.join(srv.root, "link"));
  await fs.rm(path.join(srv.root, "e".repeat(200)), { recursive: true });
});

test("10b: a short path through a link that leads past the disk's limit is PATH_TOO_LONG, not INTERNAL", async () => {
  const nearLimit = MAX_REAL_PATH_BYTES - 4 - rootBytes;
  const deepVirtual = pathOf(nearLimit, "h");
  await fs.mkdir(path.join(srv.root, deepVirtual), { recursive: true });
  await fs.symlink(path.join(srv.root, deepVirtual), path.join(srv.root, "to-deep"));
  // Made through the open parent, the name exists; its real path is past the limit.
  assertOk(await conn.request({ op: "MKDIR", path: "/to-deep/newname" }));
  for (const op of ["STAT", "LIST", "CD", "MKDIR"]) {
    const reply = await conn.request({ op, path: "/to-deep/newname/x" });
    assertError(reply, "BFTP_ERR_PATH_TOO_LONG");
  }
  for (const op of ["STAT", "LIST", "CD"]) {
    assertError(await conn.request({ op, path: "/to-deep/newname" }), "BFTP_ERR_PATH_TOO_LONG");
  }
  assertOk(await conn.request({ op: "NOOP" }));
  await fs.rm(path.join(srv.root, "to-deep"));
  execFileSync("rm", ["-rf", path.join(srv.root, "h".repeat(200))]);
});
