import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { throttleProxy } from "../fixtures/throttle-proxy.js";
import { jsonOf, runCli, startCli } from "../helpers/run-cli.js";
import { spawnServe, type ServeProcess } from "../helpers/spawn-serve.js";
import { waitUntil } from "../helpers/wait-until.js";

// Issues 12 (item 2) and 13 (item 1): `bftp put -r` over PUTTREE (PROTOCOL.md §8.14) killed
// midway leaves only complete files in the target, each the source's byte for byte, and no
// staging file in the served tree; the same command again with -c offers the files, the
// server names those it holds, and only the missing ones are sent, into the same folder
// (nothing nested). A proxy that slows the client's bytes keeps the upload running long enough
// to be cut, whatever the speed of the machine.

let base: string;
let source: string;
let served: string;
const FILES = new Map<string, Buffer>();

before(async () => {
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-puttree-killed-")));
  source = path.join(base, "src");
  served = path.join(base, "served");
  await fs.mkdir(served);
  for (let i = 0; i < 120; i++) {
    FILES.set(`d${i % 4}/f${i}.bin`, randomBytes(i % 30 === 29 ? 300_000 : 4096));
  }
  FILES.set("big/large.bin", randomBytes(1_500_000));
  FILES.set("top.txt", randomBytes(100));
  for (const [rel, bytes] of FILES) {
    await fs.mkdir(path.dirname(path.join(source, rel)), { recursive: true });
    await fs.writeFile(path.join(source, rel), bytes);
  }
});

after(async () => {
  await fs.rm(base, { recursive: true, force: true });
});

/** Every entry below `dir`, relative, with `/`; none when it is missing. */
function entriesBelow(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, encoding: "utf8" }).map((e) =>
      e.split(path.sep).join("/"),
    );
  } catch {
    return [];
  }
}

/** The source's files visible in the target now (complete or not: the test checks). */
function arrived(target: string): number {
  return entriesBelow(target).filter((e) => FILES.has(e)).length;
}

/** Every file in the target is a source file, byte for byte; returns their paths. */
async function assertOnlyCompleteFiles(target: string): Promise<string[]> {
  const complete: string[] = [];
  for (const name of entriesBelow(target)) {
    const stats = await fs.lstat(path.join(target, name));
    if (stats.isDirectory()) continue;
    const expected = FILES.get(name);
    assert.ok(expected !== undefined, `unexpected file ${name}`);
    assert.deepEqual(await fs.readFile(path.join(target, name)), expected, name);
    complete.push(name);
  }
  return complete.sort();
}

/** The server's log lines for finished PUTTREEs (`bftp serve --log-format json`, on stderr). */
function puttrees(serve: ServeProcess): Record<string, unknown>[] {
  return serve.stderr
    .filter((l) => l.includes('"event":"transfer"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l["kind"] === "tree" && l["direction"] === "put");
}

test("put -r killed midway leaves only complete files; put -r -c then sends only the missing ones", async () => {
  const serve = await spawnServe(served);
  const proxy = await throttleProxy(serve.port, 512 * 1024, { upload: true });
  const target = path.join(served, "tree");
  try {
    const cli = startCli(["put", "-q", "-r", source, `bftp://127.0.0.1:${proxy.port}/tree`], {
      timeout: 60_000,
    });
    await waitUntil(() => arrived(target) >= 5, "five files have been committed", 30_000);
    cli.child.kill("SIGKILL");
    assert.equal((await cli.result).signal, "SIGKILL");
    await proxy.close(); // what the proxy still held for the server goes too
    // The server has seen the stream break once it logs the PUTTREE: its staging files go then.
    await waitUntil(() => puttrees(serve).length === 1, "the server ended the PUTTREE", 30_000);
    assert.notEqual(puttrees(serve)[0]?.["result"], "ok");

    const before = await assertOnlyCompleteFiles(target);
    assert.ok(before.length >= 5 && before.length < FILES.size, `${before.length} complete`);
    // Nothing of the upload in progress is visible in the served tree: staging is elsewhere
    // or in the reserved folder, which is empty again.
    const staged = entriesBelow(served).filter((e) => /(^|\/)\.bftp-/.test(e));
    for (const name of staged) {
      const stats = await fs.lstat(path.join(served, name));
      assert.ok(stats.isDirectory(), `staging file left in the served tree: ${name}`);
    }

    // The same command with -c, straight to the server: only the missing files go.
    const rerun = await runCli(
      ["put", "--json", "-r", "-c", source, `bftp://127.0.0.1:${serve.port}/tree`],
      { timeout: 60_000 },
    );
    assert.equal(rerun.code, 0, rerun.stderr);
    const doc = jsonOf(rerun) as { files: { remote: string }[]; kept: string[] };
    assert.deepEqual(
      doc.kept.map((p) => p.replace(/^\/tree\//, "")).sort(),
      before,
      "the files already there are held, not sent",
    );
    const sent = doc.files.map((f) => f.remote.replace(/^\/tree\//, "")).sort();
    assert.equal(sent.length, FILES.size - before.length);
    assert.ok(!sent.some((s) => before.includes(s)), "a held file was sent again");
    // The server's own counts agree: one H per missing file, the rest held.
    await waitUntil(() => puttrees(serve).length === 2, "the server logged the re-run", 10_000);
    const log = puttrees(serve)[1] as { files: number; committed: number; result: string };
    assert.deepEqual(
      { files: log.files, committed: log.committed, result: log.result },
      { files: FILES.size - before.length, committed: FILES.size - before.length, result: "ok" },
    );

    // The same target, complete and correct, nothing nested inside it.
    const after = await assertOnlyCompleteFiles(target);
    assert.deepEqual(after, [...FILES.keys()].sort());
    assert.deepEqual(
      (await fs.readdir(target)).sort(),
      ["big", "d0", "d1", "d2", "d3", "top.txt"],
      "a copy nested in the target",
    );

    // A third run has nothing to send.
    const third = await runCli(
      ["put", "--json", "-r", "-c", source, `bftp://127.0.0.1:${serve.port}/tree`],
      { timeout: 60_000 },
    );
    assert.equal(third.code, 0, third.stderr);
    const done = jsonOf(third) as { files: unknown[]; kept: unknown[] };
    assert.deepEqual([done.files.length, done.kept.length], [0, FILES.size]);
  } finally {
    await proxy.close().catch(() => undefined);
    await serve.stop();
  }
});
