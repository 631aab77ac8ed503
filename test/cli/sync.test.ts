import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { jsonOf, runCli } from "../helpers/run-cli.js";
import { spawnServe, type ServeProcess } from "../helpers/spawn-serve.js";

// Issue 13, item 2: `bftp sync` brings a destination up to date in either direction. A file
// of 200 changed sends one file (the --json counts, and the server's own log of the tree
// stream, say so; the other files at the destination are not touched: same inode, same
// time); --checksum catches a change that size and time miss; --delete mirrors, never the
// root; --dry-run changes nothing on either side; times are kept both ways.

let base: string;
let served: string;
let serve: ServeProcess;
let url: string;

before(async () => {
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-cli-sync-")));
  served = path.join(base, "served");
  await fs.mkdir(served);
  serve = await spawnServe(served, ["--log-format", "json"]);
  url = `bftp://127.0.0.1:${serve.port}`;
});

after(async () => {
  await serve.stop();
  await fs.rm(base, { recursive: true, force: true });
});

interface SyncDoc {
  ok: boolean;
  sent: number;
  replaced: number;
  unchanged: number;
  deleted: number;
  changes: { action: string; path: string; type: string }[];
  failed: unknown[];
}

async function sync(...args: string[]): Promise<SyncDoc> {
  const result = await runCli(["sync", "--json", ...args]);
  assert.equal(result.code, 0, result.stdout + result.stderr);
  return jsonOf(result) as unknown as SyncDoc;
}

/** A tree of `count` files in four folders, distinct contents, times in the past. */
async function makeTree(dir: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const file = path.join(dir, `d${i % 4}`, `f${i}.bin`);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, randomBytes(100 + (i % 7) * 500));
    const when = new Date(1_600_000_000_000 + i * 1000 + 123);
    await fs.utimes(file, when, when);
  }
}

/** Every file below `dir`: relative path → bytes, mtime (ms) and inode. */
async function snapshot(
  dir: string,
): Promise<Map<string, { bytes: string; mtime: number; ino: bigint }>> {
  const out = new Map<string, { bytes: string; mtime: number; ino: bigint }>();
  let names: string[];
  try {
    names = readdirSync(dir, { recursive: true, encoding: "utf8" });
  } catch {
    return out;
  }
  for (const name of names.sort()) {
    const file = path.join(dir, name);
    const stats = await fs.lstat(file, { bigint: true });
    if (!stats.isFile()) continue;
    out.set(name.split(path.sep).join("/"), {
      bytes: (await fs.readFile(file)).toString("base64"),
      mtime: Number(stats.mtimeNs / 1_000_000n),
      ino: stats.ino,
    });
  }
  return out;
}

/** The two trees hold the same files, byte for byte, with the same times to the millisecond. */
async function assertSameTree(a: string, b: string): Promise<void> {
  const [left, right] = [await snapshot(a), await snapshot(b)];
  assert.deepEqual([...left.keys()], [...right.keys()]);
  for (const [name, file] of left) {
    assert.equal(right.get(name)?.bytes, file.bytes, name);
    assert.equal(right.get(name)?.mtime, file.mtime, `${name}: time`);
  }
}

/** The server's log lines for one kind of tree stream. */
/** The server's log lines of tree streams one way ("gettree" or "puttree"). */
function treeLogs(op: "gettree" | "puttree"): Record<string, unknown>[] {
  const direction = op === "gettree" ? "get" : "put";
  return serve.stderr
    .filter((l) => l.includes(`"event":"transfer"`))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l["kind"] === "tree" && l["direction"] === direction);
}

test("up: a first sync sends all; one changed file of 200 sends one file; times kept", async () => {
  const local = path.join(base, "up-src");
  await makeTree(local, 200);
  const first = await sync(local, `${url}/up`);
  assert.deepEqual([first.sent, first.replaced, first.unchanged], [200, 0, 0]);
  await assertSameTree(local, path.join(served, "up"));
  const before = await snapshot(path.join(served, "up"));

  // Same size, another time; and another size.
  await fs.utimes(
    path.join(local, "d1", "f5.bin"),
    new Date(1_700_000_000_000),
    new Date(1_700_000_000_000),
  );
  const logged = treeLogs("puttree").length;
  const second = await sync(local, `${url}/up`);
  assert.deepEqual([second.sent, second.replaced, second.unchanged], [0, 1, 199]);
  assert.deepEqual(second.changes, [{ action: "replace", path: "d1/f5.bin", type: "file" }]);
  const log = treeLogs("puttree").slice(logged);
  assert.equal(log.length, 1);
  assert.equal(log[0]?.["committed"], 1, "the server received one file");
  const after = await snapshot(path.join(served, "up"));
  for (const [name, file] of before) {
    if (name === "d1/f5.bin") continue;
    assert.equal(after.get(name)?.ino, file.ino, `${name} was not rewritten`);
  }
  await assertSameTree(local, path.join(served, "up"));

  await fs.writeFile(path.join(local, "d2", "f6.bin"), randomBytes(7));
  const third = await sync(local, `${url}/up`);
  assert.deepEqual([third.sent, third.replaced, third.unchanged], [0, 1, 199]);
  await assertSameTree(local, path.join(served, "up"));
});

test("down: one changed file of 200 sends one file; times kept; the rest untouched", async () => {
  const remote = path.join(served, "down");
  await makeTree(remote, 200);
  const local = path.join(base, "down-dst");
  const first = await sync(`${url}/down`, local);
  assert.deepEqual([first.sent, first.replaced, first.unchanged], [200, 0, 0]);
  await assertSameTree(remote, local);
  const before = await snapshot(local);

  await fs.writeFile(path.join(remote, "d3", "f7.bin"), randomBytes(9));
  const logged = treeLogs("gettree").length;
  const second = await sync(`${url}/down`, local);
  assert.deepEqual([second.sent, second.replaced, second.unchanged], [0, 1, 199]);
  const [log, ...more] = treeLogs("gettree").slice(logged);
  assert.equal(more.length, 0);
  assert.ok(log !== undefined);
  assert.equal(log["files"], 1, "the server sent one file");
  assert.equal(log["bytes"], 9);
  const after = await snapshot(local);
  for (const [name, file] of before) {
    if (name === "d3/f7.bin") continue;
    assert.equal(after.get(name)?.ino, file.ino, `${name} was not rewritten`);
  }
  await assertSameTree(remote, local);
});

test("--checksum catches a change of the same size and time; without it, it is skipped", async () => {
  const local = path.join(base, "sum-src");
  await makeTree(local, 12);
  await sync(local, `${url}/sum`);
  const file = path.join(local, "d0", "f4.bin");
  const stats = await fs.stat(file);
  const bytes = await fs.readFile(file);
  bytes[0] = (bytes[0] ?? 0) ^ 0xff;
  await fs.writeFile(file, bytes);
  await fs.utimes(file, stats.atime, stats.mtime);
  const blind = await sync(local, `${url}/sum`);
  assert.deepEqual([blind.replaced, blind.unchanged], [0, 12]);
  const seeing = await sync("--checksum", local, `${url}/sum`);
  assert.deepEqual([seeing.replaced, seeing.unchanged], [1, 11]);
  await assertSameTree(local, path.join(served, "sum"));
  const down = path.join(base, "sum-down");
  await sync(`${url}/sum`, down);
  const copy = path.join(down, "d0", "f4.bin");
  const again = Buffer.from(bytes);
  again[1] = (again[1] ?? 0) ^ 0xff;
  await fs.writeFile(copy, again);
  await fs.utimes(copy, stats.atime, stats.mtime);
  assert.deepEqual((await sync("--checksum", `${url}/sum`, down)).replaced, 1);
  await assertSameTree(local, down);
});

test("--delete mirrors both ways: files and nested folders go, the root stays", async () => {
  const local = path.join(base, "del-src");
  await makeTree(local, 8);
  await sync(local, `${url}/del`);
  await fs.mkdir(path.join(served, "del", "extra", "deeper"), { recursive: true });
  await fs.writeFile(path.join(served, "del", "extra", "deeper", "x.txt"), "x");
  await fs.writeFile(path.join(served, "del", "d0", "stray.txt"), "stray");
  const without = await sync(local, `${url}/del`);
  assert.equal(without.deleted, 0);
  assert.ok((await snapshot(path.join(served, "del"))).has("d0/stray.txt"));
  const up = await sync("--delete", local, `${url}/del`);
  assert.equal(up.deleted, 2, JSON.stringify(up.changes));
  await assertSameTree(local, path.join(served, "del"));
  assert.deepEqual(readdirSync(path.join(served, "del")).sort(), ["d0", "d1", "d2", "d3"]);

  const down = path.join(base, "del-down");
  await sync(`${url}/del`, down);
  await fs.mkdir(path.join(down, "junk", "inner"), { recursive: true });
  await fs.writeFile(path.join(down, "junk", "inner", "j.txt"), "j");
  await fs.writeFile(path.join(down, "d1", "local-only.txt"), "l");
  await fs.symlink("/etc/hostname", path.join(down, "a-link"));
  const back = await sync("--delete", `${url}/del`, down);
  assert.equal(back.deleted, 3, JSON.stringify(back.changes));
  await assertSameTree(local, down);
  assert.deepEqual(readdirSync(down).sort(), ["d0", "d1", "d2", "d3"]);

  // An empty source empties the destination, and leaves the destination's root.
  const empty = path.join(base, "del-empty");
  await fs.mkdir(empty);
  const emptied = await sync("--delete", empty, `${url}/del`);
  assert.equal(emptied.deleted, 4);
  assert.deepEqual(readdirSync(path.join(served, "del")), []);
});

test("--dry-run lists every change and makes none, on either side", async () => {
  const local = path.join(base, "dry-src");
  await makeTree(local, 10);
  await sync(local, `${url}/dry`);
  await fs.writeFile(path.join(local, "d0", "f0.bin"), "changed");
  await fs.writeFile(path.join(local, "new.txt"), "new");
  await fs.writeFile(path.join(served, "dry", "only-there.txt"), "x");
  const [localBefore, remoteBefore] = [
    await snapshot(local),
    await snapshot(path.join(served, "dry")),
  ];
  const plan = await sync("--dry-run", "--delete", local, `${url}/dry`);
  assert.deepEqual(plan.changes.map((c) => `${c.action} ${c.path}`).sort(), [
    "delete only-there.txt",
    "replace d0/f0.bin",
    "send new.txt",
  ]);
  assert.deepEqual([plan.sent, plan.replaced, plan.deleted, plan.unchanged], [1, 1, 1, 9]);
  assert.deepEqual(await snapshot(local), localBefore);
  assert.deepEqual(await snapshot(path.join(served, "dry")), remoteBefore);

  const down = path.join(base, "dry-down");
  const planDown = await sync("-n", `${url}/dry`, down);
  assert.equal(planDown.sent, 11);
  await assert.rejects(fs.lstat(down), { code: "ENOENT" });
  // People get one line per change.
  const text = await runCli(["sync", "-n", "--delete", local, `${url}/dry`]);
  assert.equal(text.code, 0);
  assert.match(text.stdout, /^delete +only-there\.txt$/mu);
  assert.match(text.stdout, /^send +new\.txt$/mu);
});

test("exactly one side must be remote", async () => {
  for (const args of [
    [base, path.join(base, "other")],
    [`${url}/a`, `${url}/b`],
  ]) {
    const result = await runCli(["sync", "--json", ...args]);
    assert.equal(result.code, 2);
    assert.equal((jsonOf(result)["error"] as { code: string }).code, "BFTP_ERR_INVALID_ARGUMENT");
  }
});

test("-p keeps a single file's time both ways; without it, the copy is stamped now", async () => {
  const file = path.join(base, "one.txt");
  await fs.writeFile(file, "one");
  const then = new Date(1_500_000_000_456);
  await fs.utimes(file, then, then);
  const mtimeOf = async (p: string): Promise<number> => (await fs.stat(p)).mtime.getTime();
  const started = Date.now() - 2000;

  assert.equal((await runCli(["put", "-p", file, `${url}/kept.txt`])).code, 0);
  assert.equal(await mtimeOf(path.join(served, "kept.txt")), then.getTime());
  assert.equal((await runCli(["put", file, `${url}/stamped.txt`])).code, 0);
  assert.ok((await mtimeOf(path.join(served, "stamped.txt"))) >= started);

  assert.equal(
    (await runCli(["get", "-p", `${url}/kept.txt`, path.join(base, "got-kept.txt")])).code,
    0,
  );
  assert.equal(await mtimeOf(path.join(base, "got-kept.txt")), then.getTime());
  assert.equal((await runCli(["get", `${url}/kept.txt`, path.join(base, "got-now.txt")])).code, 0);
  assert.ok((await mtimeOf(path.join(base, "got-now.txt"))) >= started);

  // Several files at once follow the same rule.
  const into = path.join(base, "many");
  await fs.mkdir(into);
  const many = await runCli(["get", "-p", `${url}/kept.txt`, `${url}/stamped.txt`, into]);
  assert.equal(many.code, 0, many.stderr);
  assert.equal(await mtimeOf(path.join(into, "kept.txt")), then.getTime());
});
