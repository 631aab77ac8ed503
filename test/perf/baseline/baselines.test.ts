/**
 * The straight-line baselines move the bytes they claim to, both ways, and the tree sink keeps
 * to its folder and its caps. Real processes on 127.0.0.1 port 0 (the built scripts, as the
 * benches run them), their client sides in this process. No timing is asserted.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";
import { fetchFile, sendFile } from "../../../perf/baseline/file-baseline.js";
import { fetchTree, sendTree } from "../../../perf/baseline/tree-baseline.js";
import { startListener, stopListener, type Listener } from "../../../perf/cli/processes.js";
import { withDeadline } from "../../helpers/examples-spawn.js";

const script = (name: string): string =>
  fileURLToPath(new URL(`../../../perf/baseline/${name}.js`, import.meta.url));
const FILE = script("file-baseline");
const TREE = script("tree-baseline");

let dir = "";
const started: Listener[] = [];
async function listen(args: readonly string[]): Promise<number> {
  const listener = await startListener(args);
  started.push(listener);
  return listener.port;
}

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "bftp-baseline-test-"));
});
after(async () => {
  await Promise.all(started.map((l) => stopListener(l)));
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A folder of `n` small random files, and their contents by name. */
function makeTree(name: string, n: number): Map<string, Buffer> {
  const folder = path.join(dir, name);
  fs.mkdirSync(folder);
  const files = new Map<string, Buffer>();
  for (let i = 0; i < n; i++) {
    const data = randomBytes(i * 37); // 0 bytes up to a few KiB
    files.set(`f${i}`, data);
    fs.writeFileSync(path.join(folder, `f${i}`), data);
  }
  return files;
}

function assertTree(folder: string, expected: Map<string, Buffer>): void {
  assert.deepEqual(fs.readdirSync(folder).sort(), [...expected.keys()].sort());
  for (const [name, data] of expected)
    assert.ok(fs.readFileSync(path.join(folder, name)).equals(data));
}

test("file baseline, GET: fetchFile receives the served file, byte for byte, with its CRC-32", async () => {
  const source = path.join(dir, "get-source.bin");
  const data = randomBytes(3 * 1024 * 1024 + 123);
  fs.writeFileSync(source, data);
  const port = await listen([FILE, "serve", source]);
  const destination = path.join(dir, "get-copy.bin");
  const result = await withDeadline(fetchFile(port, destination), "fetchFile");
  assert.equal(result.bytes, data.length);
  assert.equal(result.crc, zlib.crc32(data));
  assert.ok(fs.readFileSync(destination).equals(data));
});

test("file baseline, PUT: sendFile writes the file where it says, and the sink confirms it", async () => {
  const source = path.join(dir, "put-source.bin");
  const data = randomBytes(2 * 1024 * 1024 + 7);
  fs.writeFileSync(source, data);
  const port = await listen([FILE, "sink"]);
  const destination = path.join(dir, "put-copy.bin");
  const reply = await withDeadline(sendFile(port, source, destination), "sendFile");
  assert.equal(reply, `${data.length} ${zlib.crc32(data).toString(16)}`);
  assert.ok(fs.readFileSync(destination).equals(data));
});

test("tree baseline, GET: fetchTree receives every file of the folder", async () => {
  const files = makeTree("get-tree", 60);
  const port = await listen([TREE, "serve", path.join(dir, "get-tree")]);
  const out = path.join(dir, "get-tree-copy");
  assert.equal(await withDeadline(fetchTree(port, out), "fetchTree"), files.size);
  assertTree(out, files);
});

test("tree baseline, PUT: sendTree delivers every file, renamed into place, no temporaries left", async () => {
  const files = makeTree("put-tree", 60);
  const out = path.join(dir, "put-tree-copy");
  const port = await listen([TREE, "sink", out]);
  const reply = await withDeadline(sendTree(port, path.join(dir, "put-tree")), "sendTree");
  assert.equal(reply, `files ${files.size}`);
  assertTree(out, files);
});

/** One record as the tree baseline frames it, with a given name and a claimed size. */
function record(name: string, data: Buffer, claimedSize = data.length): Buffer {
  const nameBytes = Buffer.from(name);
  const head = Buffer.alloc(8 + nameBytes.length);
  head.writeUInt32BE(nameBytes.length, 0);
  nameBytes.copy(head, 4);
  head.writeUInt32BE(claimedSize, 4 + nameBytes.length);
  const tail = Buffer.alloc(4);
  tail.writeUInt32BE(zlib.crc32(data), 0);
  return Buffer.concat([head, data, tail]);
}

/**
 * Sends `bytes` to a fresh sink writing into `out`; resolves once the sink has closed, with
 * what it replied: "files N" when it took the stream to its end, nothing when it cut it off.
 */
async function sendRaw(out: string, bytes: Buffer): Promise<string> {
  const port = await listen([TREE, "sink", out]);
  const socket = net.connect({ port, host: "127.0.0.1" });
  socket.on("error", () => {}); // the sink may reset the connection: that is the point
  let reply = "";
  socket.setEncoding("utf8");
  socket.on("data", (text: string) => {
    reply += text;
  });
  await withDeadline(once(socket, "connect"), "connect");
  socket.end(bytes);
  await withDeadline(once(socket, "close"), "the sink closing the connection");
  return reply;
}

test("tree baseline sink: a name that leads out of its folder is refused, nothing written", async () => {
  const out = path.join(dir, "hostile", "inside");
  fs.mkdirSync(out, { recursive: true });
  for (const name of ["../escape", "a/b", "..", "."])
    assert.equal(await sendRaw(out, record(name, Buffer.from("x"))), "", name);
  assert.deepEqual(fs.readdirSync(out), []);
  assert.deepEqual(fs.readdirSync(path.join(dir, "hostile")), ["inside"]);
});

test("tree baseline sink: a record over the caps ends the connection before it is buffered", async () => {
  const out = path.join(dir, "capped");
  // A claimed size of 4 GiB - 1 with no bytes behind it: refused on the header alone.
  assert.equal(await sendRaw(out, record("big", Buffer.alloc(0), 0xffff_ffff)), "");
  const long = Buffer.alloc(4);
  long.writeUInt32BE(1 << 20, 0); // a 1 MiB name
  assert.equal(await sendRaw(out, long), "");
  assert.deepEqual(fs.readdirSync(out), []);
  // The same sink takes an empty stream to its end and says so: the refusals above were refusals.
  assert.equal(await sendRaw(out, Buffer.alloc(0)), "files 0\n");
});

test("tree baseline sink: a record whose CRC-32 does not match is not renamed into place", async () => {
  const out = path.join(dir, "bad-crc");
  const bad = record("file", Buffer.from("hello"));
  bad.writeUInt32BE((bad.readUInt32BE(bad.length - 4) ^ 1) >>> 0, bad.length - 4);
  assert.equal(await sendRaw(out, Buffer.concat([record("good", Buffer.from("ok")), bad])), "");
  assert.deepEqual(fs.readdirSync(out), ["good"]);
});
