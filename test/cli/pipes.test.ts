import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { jsonOf } from "../helpers/run-cli.js";
import { CLI, spawnServe, type ServeProcess } from "../helpers/spawn-serve.js";

// Issue 13, item 4: "-" is standard output for get and standard input for put.

let base: string;
let served: string;
let serve: ServeProcess;
let url: string;

before(async () => {
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-cli-pipes-")));
  served = path.join(base, "served");
  await fs.mkdir(path.join(served, "inbox"), { recursive: true });
  serve = await spawnServe(served);
  url = `bftp://127.0.0.1:${serve.port}`;
});

after(async () => {
  await serve.stop();
  await fs.rm(base, { recursive: true, force: true });
});

interface PipeRun {
  readonly code: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/**
 * Runs the CLI with `input` on its standard input (closed at once without), stdout kept as
 * bytes; `stopAfter` bytes of stdout, when given, closes our end of the pipe there, as
 * `head -c` does. 20 s deadline, then the child is killed by its PID.
 */
function runPiped(
  args: readonly string[],
  options: { input?: Buffer; stopAfter?: number } = {},
): Promise<PipeRun> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env["BFTP_PROGRESS"];
  const child = spawn(process.execPath, [CLI, ...args], {
    env,
    stdio: ["pipe", "pipe", "pipe"],
  });
  child.stdin.on("error", () => undefined); // a child that refuses early closes its stdin
  child.stdin.end(options.input ?? Buffer.alloc(0));
  const out: Buffer[] = [];
  let outBytes = 0;
  const err: Buffer[] = [];
  child.stdout.on("data", (chunk: Buffer) => {
    out.push(chunk);
    outBytes += chunk.length;
    if (options.stopAfter !== undefined && outBytes >= options.stopAfter) child.stdout.destroy();
  });
  child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`bftp ${args.join(" ")} did not finish within 20 s`));
    }, 20_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({
        code,
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err).toString("utf8"),
      });
    });
  });
}

test("put - uploads random bytes from standard input, whole and exact", async () => {
  const data = randomBytes(3 * 1024 * 1024 + 17);
  const result = await runPiped(["put", "-", `${url}/from-stdin.bin`], { input: data });
  assert.equal(result.code, 0, result.stderr);
  assert.ok((await fs.readFile(path.join(served, "from-stdin.bin"))).equals(data));
});

test("put - of empty input makes an empty file", async () => {
  const result = await runPiped(["put", "-", `${url}/empty.bin`]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal((await fs.stat(path.join(served, "empty.bin"))).size, 0);
});

test("put - reports under --json with the remote path and size", async () => {
  const data = randomBytes(1000);
  const result = await runPiped(["put", "--json", "-", `${url}/json.bin`], { input: data });
  assert.equal(result.code, 0, result.stderr);
  const doc = jsonOf({ stdout: result.stdout.toString("utf8") });
  assert.equal(doc["ok"], true);
  assert.equal(doc["bytes"], 1000);
});

test("put - keeps the no-clobber rule and --overwrite replaces", async () => {
  await fs.writeFile(path.join(served, "kept.bin"), "theirs");
  const refused = await runPiped(["put", "-", `${url}/kept.bin`], { input: Buffer.from("ours") });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /\(BFTP_ERR_EXISTS\)\n$/);
  assert.equal(await fs.readFile(path.join(served, "kept.bin"), "utf8"), "theirs");
  const replaced = await runPiped(["put", "--overwrite", "-", `${url}/kept.bin`], {
    input: Buffer.from("ours"),
  });
  assert.equal(replaced.code, 0, replaced.stderr);
  assert.equal(await fs.readFile(path.join(served, "kept.bin"), "utf8"), "ours");
});

test("put - to a folder is a usage error: a pipe has no name", async () => {
  for (const target of [`${url}/inbox/`, `${url}/inbox`]) {
    const result = await runPiped(["put", "-", target], { input: Buffer.from("x") });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /\(BFTP_ERR_INVALID_ARGUMENT\)\n$/);
  }
  assert.deepEqual(await fs.readdir(path.join(served, "inbox")), []);
});

test("-r and -c do not apply to a pipe; --json does not share stdout with the data", async () => {
  const runs = [
    ["put", "-r", "-", `${url}/x.bin`],
    ["put", "-c", "-", `${url}/x.bin`],
    ["get", "-r", `${url}/inbox`, "-"],
    ["get", "-c", `${url}/kept.bin`, "-"],
  ];
  for (const args of runs) {
    const result = await runPiped(args);
    assert.equal(result.code, 2, args.join(" "));
    assert.match(result.stderr, /\(BFTP_ERR_INVALID_ARGUMENT\)\n$/);
    assert.equal(result.stdout.length, 0);
  }
  // Under --json the refusal is the JSON document, and no byte of the file follows it.
  const json = await runPiped(["get", "--json", `${url}/kept.bin`, "-"]);
  assert.equal(json.code, 2);
  const doc = jsonOf({ stdout: json.stdout.toString("utf8") });
  assert.equal((doc["error"] as { code: string }).code, "BFTP_ERR_INVALID_ARGUMENT");
});

test("get - writes the exact bytes to standard output and nothing else", async () => {
  const data = randomBytes(2 * 1024 * 1024 + 5);
  await fs.writeFile(path.join(served, "to-stdout.bin"), data);
  const result = await runPiped(["get", `${url}/to-stdout.bin`, "-"]);
  assert.equal(result.code, 0, result.stderr);
  assert.ok(result.stdout.equals(data), "stdout carries the file's bytes only");
  assert.equal(result.stderr, "");
  const verbose = await runPiped(["get", "-v", `${url}/to-stdout.bin`, "-"]);
  assert.equal(verbose.code, 0, verbose.stderr);
  assert.ok(verbose.stdout.equals(data), "-v talks on stderr only");
});

test("get - of a missing file fails with its code and writes nothing", async () => {
  const result = await runPiped(["get", `${url}/missing.bin`, "-"]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /\(BFTP_ERR_NOT_FOUND\)\n$/);
  assert.equal(result.stdout.length, 0);
});

test("a reader that stops early (| head -c 10) ends bftp quietly", async () => {
  // Far more than any pipe buffer holds, so bftp is still writing when the reader goes.
  await fs.writeFile(path.join(served, "long.bin"), randomBytes(32 * 1024 * 1024));
  const result = await runPiped(["get", `${url}/long.bin`, "-"], { stopAfter: 10 });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, "", "no stack trace, no message");
});

test("put - then get - round-trips random bytes", async () => {
  const data = randomBytes(700_001);
  const up = await runPiped(["put", "-", `${url}/round.bin`], { input: data });
  assert.equal(up.code, 0, up.stderr);
  const down = await runPiped(["get", `${url}/round.bin`, "-"]);
  assert.equal(down.code, 0, down.stderr);
  assert.ok(down.stdout.equals(data));
});
