import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { once } from "node:events";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { UploadStaging } from "../../src/server/upload-staging.js";
import { HEX_SIZE_HEADER, encodeFrame, writeAll } from "../../src/wire/index.js";
import { assertOk } from "../helpers/assert-reply.js";
import { ProtocolConnection } from "../helpers/protocol-connection.js";
import { startCli } from "../helpers/run-cli.js";
import { spawnServe, type ServeProcess } from "../helpers/spawn-serve.js";
import { waitUntil } from "../helpers/wait-until.js";

// Issue 11, item 3, with real processes: `bftp put` SIGKILLed midway, and `bftp serve`
// SIGKILLed mid-upload then restarted. After each, the served folder holds only complete
// files (each equal to one uploaded version) and no temporary or partial name; upload files
// live in the staging folder (--temp-dir), where the restarted server keeps a cut resumable
// upload for RESUME and removes a cut plain one. test/server/issue-11-killed-uploads.test.ts
// cuts 200 uploads over sockets.

const BIG = 64 * 1024 * 1024;
const MiB = 1024 * 1024;

let base: string;
let served: string;
let temp: string;
let staging: string;
let work: string;
let serve: ServeProcess;

before(async () => {
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-cli-put-killed-")));
  served = path.join(base, "served");
  temp = path.join(base, "temp");
  work = path.join(base, "work");
  await fs.mkdir(served);
  await fs.mkdir(work);
  staging = UploadStaging.folderFor(temp, served);
  serve = await spawnServe(served, ["--temp-dir", temp]);
});

after(async () => {
  await serve.stop();
  await fs.rm(base, { recursive: true, force: true });
});

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Every name under `dir`, recursively (relative paths). */
async function namesUnder(dir: string): Promise<string[]> {
  return (await fs.readdir(dir, { recursive: true })).sort();
}

/** The staging folder's files and their sizes. */
async function staged(): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  for (const name of await fs.readdir(staging).catch(() => [] as string[])) {
    const stats = await fs.stat(path.join(staging, name)).catch(() => undefined);
    if (stats !== undefined) sizes.set(name, stats.size);
  }
  return sizes;
}

/** Polls the staging folder until `ready` holds (every 2 ms, 15 s deadline). */
async function untilStaged(ready: (files: Map<string, number>) => boolean): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!ready(await staged())) {
    assert.ok(Date.now() < deadline, "the upload did not reach the staging folder within 15 s");
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

test("`bftp put` SIGKILLed midway: the served folder shows the old file or the new one, whole", async (t) => {
  const old = randomBytes(1000);
  await fs.writeFile(path.join(served, "big.bin"), old);
  const source = randomBytes(BIG);
  await fs.writeFile(path.join(work, "big.bin"), source);
  const wholeVersions = new Set([sha256(old), sha256(source)]);
  const disconnects = (): number =>
    serve.stderr.filter((l) => l.includes('"event":"disconnect"')).length;
  let midway = 0;
  for (let round = 0; round < 3; round++) {
    const before = disconnects();
    const running = startCli(
      ["put", "--overwrite", "big.bin", `bftp://127.0.0.1:${serve.port}/big.bin`],
      {
        cwd: work,
        timeout: 60_000,
      },
    );
    // Killed once its bytes are arriving (or, on a fast machine, after it ended: either way
    // the served folder must show a whole version).
    let ended = false;
    const end = (): void => {
      ended = true;
    };
    running.result.then(end, end);
    await untilStaged(
      (files) => ended || [...files].some(([n, size]) => n.startsWith("upload-") && size > 0),
    );
    running.child.kill("SIGKILL");
    const { signal } = await running.result;
    if (signal === "SIGKILL") midway++;
    await waitUntil(() => disconnects() > before, "the server saw the client go", 10_000);
    assert.deepEqual(await namesUnder(served), ["big.bin"], `round ${round}: nothing else`);
    const stored = await fs.readFile(path.join(served, "big.bin"));
    assert.ok(wholeVersions.has(sha256(stored)), `round ${round}: a whole version`);
    const left = [...(await staged()).keys()];
    assert.ok(
      left.every((n) => n.startsWith("resume-")),
      `round ${round}: only a kept partial is staged: ${left.join(", ")}`,
    );
  }
  t.diagnostic(`${midway} of 3 puts were killed midway (the others had ended)`);
});

test("`bftp serve` SIGKILLed mid-upload and restarted: nothing partial shows; the resumable upload resumes", async () => {
  await fs.writeFile(path.join(served, "plain.bin"), "the old plain.bin");
  const resumable = randomBytes(5 * MiB + 99);
  const plain = randomBytes(5 * MiB);
  const sent = 3 * MiB; // the server writes in 1 MiB batches: exactly 3 MiB reach the file
  const conns = await Promise.all([0, 1].map(() => ProtocolConnection.open(serve.port)));
  const begin = async (conn: ProtocolConnection, request: object, data: Buffer): Promise<void> => {
    const frames = [encodeFrame(JSON.stringify(request))];
    for (let at = 0; at < sent; at += 64 * 1024) {
      frames.push(HEX_SIZE_HEADER.encode(64 * 1024), data.subarray(at, at + 64 * 1024));
    }
    await writeAll(conn.socket, frames); // and then nothing more: the upload is in progress
  };
  await begin(
    conns[0] as ProtocolConnection,
    { op: "PUT", path: "/resumable.bin", resumable: true },
    resumable,
  );
  await begin(
    conns[1] as ProtocolConnection,
    { op: "PUT", path: "/plain.bin", overwrite: true },
    plain,
  );
  await untilStaged((files) => {
    const sizes = [...files.entries()];
    return (
      sizes.some(([n, size]) => n.startsWith("upload-") && size === sent) &&
      sizes.some(([n, size]) => n.startsWith("part-") && size === sent)
    );
  });

  const exited = once(serve.child, "exit");
  serve.child.kill("SIGKILL");
  await exited;
  for (const conn of conns) conn.close();
  assert.deepEqual(await namesUnder(served), ["big.bin", "plain.bin"], "nothing partial shows");
  assert.equal(await fs.readFile(path.join(served, "plain.bin"), "utf8"), "the old plain.bin");

  serve = await spawnServe(served, ["--temp-dir", temp]);
  // The start-up sweep removed the plain upload and kept the resumable one as its partial.
  const left = [...(await staged()).entries()];
  assert.equal(left.filter(([n]) => n.startsWith("part-") || n.startsWith("upload-")).length, 0);
  assert.ok(
    left.some(([n, size]) => n.startsWith("resume-") && size === sent),
    left.join(" "),
  );
  const conn = await ProtocolConnection.open(serve.port);
  try {
    assert.deepEqual(await conn.request({ op: "RESUME", path: "/resumable.bin" }), {
      ok: true,
      offset: sent,
      sha256: sha256(resumable.subarray(0, sent)),
    });
    assertOk(
      await conn.put("/resumable.bin", resumable.subarray(sent), {
        offset: sent,
        resumable: true,
        size: resumable.length,
      }),
    );
    assert.ok((await fs.readFile(path.join(served, "resumable.bin"))).equals(resumable));
    assert.deepEqual(await namesUnder(served), ["big.bin", "plain.bin", "resumable.bin"]);
  } finally {
    conn.close();
  }
});
