import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { ProtocolConnection } from "../helpers/protocol-connection.js";
import { CLI, spawnServe } from "../helpers/spawn-serve.js";

let base: string;

before(async () => {
  base = await fs.mkdtemp(path.join(os.tmpdir(), "bftp-cli-serve-"));
});

after(async () => {
  await fs.rm(base, { recursive: true, force: true });
});

test("prints `listening on HOST:PORT` first, on loopback, and serves the folder", async () => {
  const dir = path.join(base, "served");
  const serve = await spawnServe(dir);
  try {
    assert.equal(serve.host, "127.0.0.1");
    assert.ok(serve.port > 0);
    await fs.writeFile(path.join(dir, "hello.txt"), "hello world");
    const conn = await ProtocolConnection.open(serve.port);
    const got = await conn.get("/hello.txt");
    assert.equal(got.data?.toString(), "hello world");
    conn.close();
  } finally {
    assert.equal(await serve.stop(), 0, "SIGTERM is a clean exit");
  }
});

test("creates a missing folder, and sweeps stale temporary files at start-up", async () => {
  const dir = path.join(base, "sweep");
  await fs.mkdir(path.join(dir, "sub"), { recursive: true });
  await fs.writeFile(path.join(dir, ".bftp-part-0123456789abcdef"), "stale");
  await fs.writeFile(path.join(dir, "sub", ".bftp-part-fedcba9876543210"), "stale");
  await fs.writeFile(path.join(dir, "keep.txt"), "kept");
  const serve = await spawnServe(dir);
  try {
    assert.deepEqual((await fs.readdir(dir)).sort(), ["keep.txt", "sub"]);
    assert.deepEqual(await fs.readdir(path.join(dir, "sub")), []);
    assert.ok(serve.stderr.some((l) => l.includes('"event":"swept-temp-files"')));
  } finally {
    await serve.stop();
  }
});

test("--workers 2 serves clients from two processes", async () => {
  const serve = await spawnServe(path.join(base, "workers"), ["--workers", "2"]);
  try {
    // The primary hands connections to workers round-robin; a dozen reach both.
    const conns = await Promise.all(
      Array.from({ length: 12 }, () => ProtocolConnection.open(serve.port)),
    );
    for (const conn of conns) assert.equal((await conn.request({ op: "PWD" })).ok, true);
    for (const conn of conns) conn.close();
    // Log lines travel on a pipe, replies on TCP: wait (bounded) for the lines to arrive.
    const servedBy = (): Set<number> =>
      new Set(
        serve.stderr
          .filter((l) => l.includes('"event":"connect"'))
          .map((l) => (JSON.parse(l) as { pid: number }).pid),
      );
    for (let waited = 0; servedBy().size < 2 && waited < 5000; waited += 50) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const pids = servedBy();
    assert.ok(pids.size >= 2, `connections were served by ${pids.size} process(es)`);
    assert.ok(!pids.has(serve.child.pid ?? -1), "the primary does not serve");
  } finally {
    assert.equal(await serve.stop(), 0);
  }
});

test("usage errors exit 2 with a message; --help exits 0 and teaches", () => {
  const bad = spawnSync(process.execPath, [CLI, "serve", "--port", "http"], { encoding: "utf8" });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--port/);
  const unknown = spawnSync(process.execPath, [CLI, "frobnicate"], { encoding: "utf8" });
  assert.equal(unknown.status, 2);
  const help = spawnSync(process.execPath, [CLI, "serve", "--help"], { encoding: "utf8" });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /Examples:/);
  assert.match(help.stdout, /--workers/);
});

test("beyond loopback, serve refuses to start without accounts and TLS (exit 2), before listening", async () => {
  const config = await fs.mkdtemp(path.join(os.tmpdir(), "bftp-serve-config-"));
  try {
    const run = (args: readonly string[]) =>
      spawnSync(
        process.execPath,
        [CLI, "serve", path.join(base, "exposed"), "--port", "0", "--config-dir", config, ...args],
        { encoding: "utf8", timeout: 30_000 },
      );
    for (const args of [
      ["--host", "0.0.0.0"],
      ["--host", "::"],
      ["--host", "0.0.0.0", "--tls"],
    ]) {
      const refused = run(args);
      assert.equal(refused.status, 2, `${args.join(" ")}: ${refused.stderr}`);
      assert.match(refused.stderr, /\(BFTP_ERR_UNSAFE_LISTEN\)/);
      assert.doesNotMatch(refused.stdout, /listening on/);
    }
  } finally {
    await fs.rm(config, { recursive: true, force: true });
  }
});
