import assert from "node:assert/strict";
import { createHash, randomBytes, randomInt } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { HEX_SIZE_HEADER, encodeFrame, writeAll } from "../../src/wire/index.js";
import { assertOk } from "../helpers/assert-reply.js";
import { stagedUploads, startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection } from "../helpers/protocol-connection.js";
import { waitUntil } from "../helpers/wait-until.js";

// Issue 11, item 3: the served folder shows only complete files, whatever is cut when. 200
// uploads (resumable and plain, new names and overwrites) are cut mid-data-phase, at a random
// byte, by closing or resetting the client's socket; complete uploads run between them. After
// every batch the served tree holds only files that equal a complete uploaded version, and no
// temporary or partial name anywhere; the staging folder holds only kept partials. (Before the
// fix, every cut resumable upload left `.bftp-resume-…` among the user's files.)
// test/cli/put-killed.test.ts kills real `bftp put` and `bftp serve` processes.

const CUTS = 200;
const AT_ONCE = 8;
const CHUNK = 64 * 1024;
const NAMES = ["/a.bin", "/b.bin", "/c.bin", "/deep/d.bin", "/deep/e.bin", "/deep/er/f.bin"];

let srv: TestServer;
/** For each served file (relative path), the SHA-256 of every version committed whole. */
const versions = new Map<string, Set<string>>();

before(async () => {
  srv = await startServer();
  await fs.mkdir(path.join(srv.root, "deep", "er"), { recursive: true });
});

after(() => srv.stop());

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** A whole upload, recorded as a version of its file. */
async function completeUpload(conn: ProtocolConnection, name: string): Promise<void> {
  const data = randomBytes(randomInt(1, 300 * 1024));
  const rel = name.slice(1);
  const known = versions.get(rel) ?? new Set<string>();
  known.add(sha256(data));
  versions.set(rel, known);
  assertOk(await conn.put(name, data, { overwrite: true, resumable: randomInt(2) === 0 }));
}

/**
 * A PUT whose data phase is cut after `cut` of its bytes: whole frames, then part of one,
 * then the socket is closed or reset.
 */
async function cutUpload(name: string, fields: object): Promise<void> {
  const data = randomBytes(randomInt(2, 400 * 1024));
  const cut = randomInt(1, data.length);
  const conn = await ProtocolConnection.open(srv.port);
  const frames: Buffer[] = [encodeFrame(JSON.stringify({ op: "PUT", path: name, ...fields }))];
  for (let at = 0; at < cut; at += CHUNK) {
    const frame = data.subarray(at, Math.min(at + CHUNK, data.length));
    frames.push(HEX_SIZE_HEADER.encode(frame.length), frame.subarray(0, cut - at));
  }
  await writeAll(conn.socket, frames);
  if (randomInt(2) === 0) conn.socket.destroy();
  else conn.socket.resetAndDestroy();
}

/** Every file under `dir` (relative paths) and every name that is not a user's file. */
async function walk(dir: string): Promise<{ files: string[]; reserved: string[] }> {
  const files: string[] = [];
  const reserved: string[] = [];
  for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    const full = path.join(entry.parentPath, entry.name);
    const rel = path.relative(dir, full);
    if (rel.split(path.sep).some((part) => part.startsWith(".bftp"))) reserved.push(rel);
    else if (entry.isFile()) files.push(rel);
  }
  return { files, reserved };
}

/** The invariant: only complete files in the served tree; only kept partials in staging. */
async function assertOnlyCompleteFiles(what: string): Promise<void> {
  await waitUntil(() => srv.server.connections <= 1, `the cut sessions of ${what} have ended`);
  const { files, reserved } = await walk(srv.root);
  assert.deepEqual(reserved, [], `${what}: no temporary or partial name in the served tree`);
  for (const rel of files) {
    const digest = sha256(await fs.readFile(path.join(srv.root, rel)));
    assert.ok(versions.get(rel)?.has(digest), `${what}: ${rel} is a complete uploaded version`);
  }
  const staged = stagedUploads(srv);
  assert.deepEqual(
    staged.filter((n) => !n.startsWith("resume-")),
    [],
    `${what}: nothing but kept partials in the staging folder`,
  );
  assert.ok(staged.length <= NAMES.length + CUTS, `${what}: ${staged.length} partials`);
}

test(`${CUTS} uploads cut mid-data-phase leave only complete files in the served folder`, async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    for (const name of NAMES.slice(0, 3)) await completeUpload(conn, name);
    let cuts = 0;
    for (let batch = 0; cuts < CUTS; batch++) {
      const running: Promise<void>[] = [];
      for (let i = 0; i < AT_ONCE && cuts < CUTS; i++, cuts++) {
        const name = NAMES[randomInt(NAMES.length)] as string;
        const fresh = `/new-${cuts}.bin`;
        const fields = [
          { resumable: true, overwrite: true },
          { overwrite: true },
          { resumable: true },
          {},
        ][cuts % 4] as { overwrite?: boolean };
        // Without overwrite an existing target is refused before any byte is written: cut
        // those uploads to names that do not exist, so their data is written too.
        running.push(cutUpload(fields.overwrite === true ? name : fresh, fields));
      }
      await Promise.all(running);
      await completeUpload(conn, NAMES[randomInt(NAMES.length)] as string);
      await assertOnlyCompleteFiles(`batch ${batch}`);
    }
  } finally {
    conn.close();
  }
  // The cut uploads to new names committed nothing.
  const { files } = await walk(srv.root);
  assert.deepEqual(
    files.filter((f) => f.startsWith("new-")),
    [],
  );
});

test("a cut resumable upload is kept in the staging folder and completed by RESUME and PUT", async () => {
  const whole = randomBytes(5 * CHUNK + 17);
  const kept = 2 * CHUNK + 5;
  const conn = await ProtocolConnection.open(srv.port);
  await writeAll(conn.socket, [
    encodeFrame(JSON.stringify({ op: "PUT", path: "/kept.bin", resumable: true })),
    HEX_SIZE_HEADER.encode(CHUNK),
    whole.subarray(0, CHUNK),
    HEX_SIZE_HEADER.encode(CHUNK),
    whole.subarray(CHUNK, 2 * CHUNK),
    HEX_SIZE_HEADER.encode(CHUNK),
    whole.subarray(2 * CHUNK, kept),
  ]);
  conn.socket.destroy();
  await waitUntil(() => srv.server.connections === 0, "the cut session has ended");
  assert.deepEqual((await walk(srv.root)).reserved, []);
  const again = await ProtocolConnection.open(srv.port);
  try {
    assert.deepEqual(await again.request({ op: "RESUME", path: "/kept.bin" }), {
      ok: true,
      offset: kept,
      sha256: sha256(whole.subarray(0, kept)),
    });
    assertOk(
      await again.put("/kept.bin", whole.subarray(kept), {
        offset: kept,
        resumable: true,
        size: whole.length,
      }),
    );
    assert.ok((await fs.readFile(path.join(srv.root, "kept.bin"))).equals(whole));
  } finally {
    again.close();
  }
});
