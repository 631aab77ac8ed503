// Issue 11, item 1 (acceptance): a file rewritten in place (same size), truncated or appended
// while it is downloaded. Before the fix the server sent old bytes up to the change and new
// bytes after, with a checksum of that mix, and the client reported success; a shrinking file
// gave BFTP_ERR_INTERNAL. Every download must now end with exactly the bytes of one version
// (verified by the client) or with BFTP_ERR_FILE_CHANGED, and the connection stays usable.
//
// Half the rounds change the file from inside the server's read path (a hook on
// FileHandle.read in this process), at a position that varies by round: those are hit
// mid-way whatever the socket buffers hold, and must fail with the code. The other half
// change it from the test, concurrently, once the client has received bytes: any outcome
// but a torn file is fine there.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { Writable } from "node:stream";
import { after, before, test } from "node:test";
import { BftpClient } from "../../src/client/client.js";
import { isBftpError } from "../../src/errors.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { hookFileReads } from "../helpers/file-read-hook.js";

const MiB = 1024 * 1024;
const SIZE = 8 * MiB;
const ROUNDS = 50;

let srv: TestServer;
let client: BftpClient;
let reads: Awaited<ReturnType<typeof hookFileReads>>;

before(async () => {
  srv = await startServer();
  reads = await hookFileReads(path.join(srv.outside, "probe"));
  client = await BftpClient.connect({ host: "127.0.0.1", port: srv.port });
});

after(async () => {
  reads.restore();
  await client.close();
  await srv.stop();
});

/** One way a file changes, and the version it leaves. */
interface Change {
  readonly kind: "rewritten" | "truncated" | "appended";
  /** The file's bytes after the change. */
  readonly next: Buffer;
  /** Makes the change synchronously (from inside a read). */
  readonly now: () => void;
  /** Makes the change asynchronously (from the test, while the download runs). */
  readonly later: () => Promise<void>;
}

function changeOf(round: number, file: string, old: Buffer): Change {
  switch (round % 3) {
    case 0: {
      // What `cp new file` does: open with O_TRUNC, write the same number of bytes.
      const next = randomBytes(SIZE);
      return {
        kind: "rewritten",
        next,
        now: () => {
          fs.writeFileSync(file, next);
        },
        later: () => fsp.writeFile(file, next),
      };
    }
    case 1: {
      const cut = SIZE / 2 + round * 1000;
      return {
        kind: "truncated",
        next: old.subarray(0, cut),
        now: () => {
          fs.truncateSync(file, cut);
        },
        later: () => fsp.truncate(file, cut),
      };
    }
    default: {
      const more = randomBytes(64 * 1024);
      return {
        kind: "appended",
        next: Buffer.concat([old, more]),
        now: () => {
          fs.appendFileSync(file, more);
        },
        later: () => fsp.appendFile(file, more),
      };
    }
  }
}

/** A Writable that keeps what it is given and calls `onBytes` with the running total. */
function collector(onBytes: (total: number) => void): Writable & { data: () => Buffer } {
  const parts: Buffer[] = [];
  let total = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      parts.push(chunk);
      total += chunk.length;
      onBytes(total);
      done();
    },
  });
  return Object.assign(sink, { data: () => Buffer.concat(parts) });
}

test("50 downloads of a file rewritten, truncated or appended meanwhile: one whole version or FILE_CHANGED", async () => {
  const file = path.join(srv.root, "moving.bin");
  const outcomes: string[] = [];
  let hit = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const old = randomBytes(SIZE);
    await fsp.writeFile(file, old);
    const change = changeOf(round, file, old);
    const fromInside = round % 2 === 0;
    let writer: Promise<void> = Promise.resolve();
    // Where the change lands: from 1 to 7 MiB into the file (inside), or once this many
    // bytes have reached the client (concurrent).
    const at = ((round >> 1) % 7) * MiB + MiB;
    if (fromInside) reads.arm(change.now, at);
    let started = false;
    const sink = collector((total) => {
      if (!fromInside && !started && total >= at - MiB) {
        started = true;
        writer = change.later();
      }
    });
    let outcome: string;
    try {
      await client.download("/moving.bin", sink);
      const data = sink.data();
      if (data.equals(old)) outcome = "old";
      else if (data.equals(change.next)) outcome = "new";
      else assert.fail(`round ${round} (${change.kind}): a download that is neither version`);
    } catch (err) {
      assert.ok(
        isBftpError(err, "BFTP_ERR_FILE_CHANGED"),
        `round ${round} (${change.kind}): ${String(err)}`,
      );
      outcome = "changed";
    }
    await writer;
    if (fromInside) {
      assert.ok(reads.fired(), `round ${round}: the change was made inside the read`);
      assert.equal(outcome, "changed", `round ${round} (${change.kind}) was hit mid-way`);
      hit++;
    }
    outcomes.push(`${change.kind}:${outcome}`);
  }
  assert.equal(hit, ROUNDS / 2);
  assert.equal(outcomes.length, ROUNDS);
  // The connection is still usable after all of that, and the file as it is now downloads whole.
  const final = await fsp.readFile(file);
  const sink = collector(() => undefined);
  await client.download("/moving.bin", sink);
  assert.ok(sink.data().equals(final));
});

test("a file truncated mid-GET is BFTP_ERR_FILE_CHANGED, not BFTP_ERR_INTERNAL", async () => {
  const file = path.join(srv.root, "shrinking.bin");
  await fsp.writeFile(file, randomBytes(4 * MiB));
  reads.arm(() => {
    fs.truncateSync(file, MiB);
  }, 2 * MiB);
  const sink = collector(() => undefined);
  await assert.rejects(client.download("/shrinking.bin", sink), (err: unknown) =>
    isBftpError(err, "BFTP_ERR_FILE_CHANGED"),
  );
  assert.ok(reads.fired());
  assert.equal((await client.stat("/shrinking.bin")).size, MiB); // the connection goes on
});
