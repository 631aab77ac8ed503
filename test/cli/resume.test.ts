import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { after, before, test } from "node:test";
import { jsonOf, runCli, startCli } from "../helpers/run-cli.js";
import { spawnServe, type ServeProcess } from "../helpers/spawn-serve.js";
import { UploadStaging } from "../../src/server/upload-staging.js";
import { waitUntil } from "../helpers/wait-until.js";

// Issue 4, acceptance: `-c` resumes a transfer killed midway, and the checksums match.

const SIZE = 200 * 1024 * 1024;

let base: string;
let served: string;
let work: string;
let serve: ServeProcess;
let url: string;
let source: string;
let sourceHash: string;
/** The server's upload staging folder (`--temp-dir`), where partial uploads are kept. */
let staging: string;

async function sha256(file: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), hash);
  return hash.digest("hex");
}

/** The size of the first file in `dir` whose name passes `match`, or 0. */
async function sizeOf(dir: string, match: (name: string) => boolean): Promise<number> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const name = names.find(match);
  if (name === undefined) return 0;
  return fs.stat(path.join(dir, name)).then(
    (s) => s.size,
    () => 0,
  );
}

/** Polls (every few ms, with a deadline) until `dir` holds a non-empty partial file. */
async function untilPartial(dir: string, match: (name: string) => boolean): Promise<void> {
  const deadline = Date.now() + 15_000;
  while ((await sizeOf(dir, match)) === 0) {
    if (Date.now() > deadline) throw new Error(`no partial file in ${dir} within 15 s`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

before(async () => {
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-cli-resume-")));
  served = path.join(base, "served");
  work = path.join(base, "work");
  await fs.mkdir(path.join(served, "up"), { recursive: true });
  await fs.mkdir(work);
  // 200 MiB of 1 MiB random blocks, each different (a resume at the wrong offset shows).
  source = path.join(served, "big.bin");
  const file = await fs.open(source, "w");
  const block = randomBytes(1 << 20);
  for (let i = 0; i < SIZE >> 20; i++) {
    block.writeUInt32LE(i, 0);
    await file.write(block);
  }
  await file.close();
  sourceHash = await sha256(source);
  const temp = path.join(base, "temp");
  staging = UploadStaging.folderFor(temp, served);
  serve = await spawnServe(served, ["--temp-dir", temp]);
  url = `bftp://127.0.0.1:${serve.port}`;
});

after(async () => {
  await serve.stop();
  await fs.rm(base, { recursive: true, force: true });
});

test("get -c continues a download killed midway; the sha256 matches", async () => {
  const running = startCli(["get", `${url}/big.bin`, "big.bin"], { cwd: work });
  await untilPartial(work, (n) => n === "big.bin.bftp-part");
  running.child.kill("SIGKILL");
  const killed = await running.result;
  assert.equal(killed.signal, "SIGKILL");
  const kept = await sizeOf(work, (n) => n === "big.bin.bftp-part");
  assert.ok(kept > 0 && kept < SIZE, `killed midway: ${kept} of ${SIZE} bytes kept`);
  await assert.rejects(fs.lstat(path.join(work, "big.bin")), "never under its own name");

  const resumed = await runCli(["get", "-c", "--json", `${url}/big.bin`, "big.bin"], {
    cwd: work,
    timeout: 30_000,
  });
  assert.equal(resumed.code, 0, resumed.stdout);
  const [file] = jsonOf(resumed)["files"] as { offset: number; bytes: number; size: number }[];
  assert.equal(file?.offset, kept, "it continued where the partial ended");
  assert.equal(file.bytes, SIZE - kept);
  assert.equal(file.size, SIZE);
  assert.equal(await sha256(path.join(work, "big.bin")), sourceHash);
  assert.deepEqual(await fs.readdir(work), ["big.bin"], "the partial is gone");
});

test("put -c continues an upload killed midway from the partial the server kept", async () => {
  // Upload files live in the staging folder, never in the served one (issue 11, item 3).
  const isUploading = (n: string): boolean => n.startsWith("upload-");
  const isPartial = (n: string): boolean => n.startsWith("resume-");
  const disconnects = (): number =>
    serve.stderr.filter((l) => l.includes('"event":"disconnect"')).length;
  const before = disconnects();
  const running = startCli(["put", source, `${url}/up/big.bin`]);
  await untilPartial(staging, isUploading);
  running.child.kill("SIGKILL");
  assert.equal((await running.result).signal, "SIGKILL");
  // The server notices the lost connection and keeps the resumable partial.
  await waitUntil(() => disconnects() > before, "the server saw the client go", 10_000);
  const kept = await sizeOf(staging, isPartial);
  assert.ok(kept > 0 && kept < SIZE, `killed midway: ${kept} of ${SIZE} bytes kept`);
  await assert.rejects(fs.lstat(path.join(served, "up", "big.bin")), "nothing committed");
  assert.deepEqual(await fs.readdir(path.join(served, "up")), [], "no partial among the files");

  const resumed = await runCli(["put", "-c", "--json", source, `${url}/up/big.bin`], {
    timeout: 30_000,
  });
  assert.equal(resumed.code, 0, resumed.stdout);
  const [file] = jsonOf(resumed)["files"] as { offset: number; bytes: number; size: number }[];
  assert.equal(file?.offset, kept, "it continued where the server's partial ended");
  assert.equal(file.bytes, SIZE - kept);
  const hash = await runCli(["hash", `${url}/up/big.bin`]);
  assert.equal(hash.stdout, `${sourceHash}  /up/big.bin\n`);
  assert.deepEqual(await fs.readdir(path.join(served, "up")), ["big.bin"], "no partial left");
  assert.deepEqual(await fs.readdir(staging), [], "the partial was committed");
});
