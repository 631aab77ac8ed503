import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { readdirSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { throttleProxy } from "../fixtures/throttle-proxy.js";
import { startCli } from "../helpers/run-cli.js";
import { spawnServe } from "../helpers/spawn-serve.js";
import { waitUntil } from "../helpers/wait-until.js";

// Issue 12: a tree download over the tree stream (PROTOCOL.md §8.13) killed midway, the client
// and separately the server. Every file under its own name in the target is complete and
// correct; only `NAME.bftp-part` partials may hold a file cut short. A throttling proxy keeps
// the transfer running long enough to be cut, whatever the speed of the machine.

let base: string;
let source: string;
const FILES = new Map<string, Buffer>();

before(async () => {
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-tree-killed-")));
  source = path.join(base, "served", "tree");
  for (let i = 0; i < 120; i++) {
    const rel = `d${i % 4}/f${i}.bin`;
    FILES.set(rel, randomBytes(i % 30 === 29 ? 300_000 : 4096));
  }
  FILES.set("big/large.bin", randomBytes(1_500_000));
  for (const [rel, bytes] of FILES) {
    await fs.mkdir(path.dirname(path.join(source, rel)), { recursive: true });
    await fs.writeFile(path.join(source, rel), bytes);
  }
});

after(async () => {
  await fs.rm(base, { recursive: true, force: true });
});

/** The files under their own names in `dir` (partials apart), relative with `/`. */
function completeNames(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir, { recursive: true, encoding: "utf8" });
  } catch {
    return [];
  }
  return entries
    .map((e) => e.split(path.sep).join("/"))
    .filter((e) => FILES.has(e) || e.endsWith(".bftp-part"))
    .filter((e) => !e.endsWith(".bftp-part"));
}

/** Every file under its own name is the server's file, byte for byte; nothing else is there. */
async function assertOnlyCompleteFiles(dir: string): Promise<number> {
  const names = (await fs.readdir(dir, { recursive: true })).map((e) =>
    e.split(path.sep).join("/"),
  );
  let complete = 0;
  for (const name of names) {
    const stats = await fs.stat(path.join(dir, name));
    if (stats.isDirectory()) continue;
    if (name.endsWith(".bftp-part")) continue; // a partial, never taken for the file
    const expected = FILES.get(name);
    assert.ok(expected !== undefined, `unexpected file ${name}`);
    assert.deepEqual(await fs.readFile(path.join(dir, name)), expected, name);
    complete++;
  }
  return complete;
}

test("a tree download whose client is killed midway leaves only complete files", async () => {
  const serve = await spawnServe(path.dirname(source));
  const proxy = await throttleProxy(serve.port, 512 * 1024);
  const target = path.join(base, "client-killed");
  try {
    const cli = startCli(["get", "-q", "-r", `bftp://127.0.0.1:${proxy.port}/tree`, target], {
      timeout: 60_000,
    });
    await waitUntil(() => completeNames(target).length >= 5, "five files have arrived", 30_000);
    cli.child.kill("SIGKILL");
    const result = await cli.result;
    assert.equal(result.signal, "SIGKILL");
    const complete = await assertOnlyCompleteFiles(target);
    assert.ok(complete >= 5 && complete < FILES.size, `${complete} complete files`);
  } finally {
    await proxy.close();
    await serve.stop();
  }
});

test("a tree download whose server is killed midway fails, leaving only complete files", async () => {
  const serve = await spawnServe(path.dirname(source));
  const proxy = await throttleProxy(serve.port, 512 * 1024);
  const target = path.join(base, "server-killed");
  try {
    const cli = startCli(["get", "-q", "-r", `bftp://127.0.0.1:${proxy.port}/tree`, target], {
      timeout: 60_000,
    });
    await waitUntil(() => completeNames(target).length >= 5, "five files have arrived", 30_000);
    const exited = once(serve.child, "exit");
    serve.child.kill("SIGKILL");
    await exited;
    await proxy.close(); // the proxy holds what the server had sent; cut it too
    const result = await cli.result;
    assert.notEqual(result.code, 0, result.stderr);
    const complete = await assertOnlyCompleteFiles(target);
    assert.ok(complete >= 5 && complete < FILES.size, `${complete} complete files`);
  } finally {
    await proxy.close().catch(() => undefined);
    await serve.stop().catch(() => undefined);
  }
});
