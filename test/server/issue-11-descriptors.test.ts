import assert from "node:assert/strict";
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { assertError, assertOk } from "../helpers/assert-reply.js";
import { ProtocolConnection } from "../helpers/protocol-connection.js";

// Issue 11, item 10c: a server out of file descriptors answered a download on an open
// connection with BFTP_ERR_INTERNAL. Running out of descriptors is a moment's shortage, not
// a fault: every command that opens a file or folder now answers the non-fatal
// BFTP_ERR_BUSY, and the same connection works again once descriptors are free.
//
// The server runs in a child process with a low descriptor limit (prlimit, util-linux), and
// exhausts its own descriptors on command, after the test's connection is open.

const CHILD = fileURLToPath(new URL("../helpers/fd-starved-server.js", import.meta.url));
const CONTENT = "hello, descriptors\n";

let base: string;
let child: ChildProcessWithoutNullStreams;
let lines: AsyncIterator<string>;
let conn: ProtocolConnection;

/** The child's next line of output, as JSON, within 10 s. */
async function childSays(): Promise<Record<string, unknown>> {
  const timer = AbortSignal.timeout(10_000);
  const next = lines.next();
  const line = await Promise.race([
    next,
    once(timer, "abort").then(() => {
      throw new Error("the server child said nothing within 10 s");
    }),
  ]);
  if (line.done === true) throw new Error("the server child ended");
  return JSON.parse(line.value) as Record<string, unknown>;
}

async function tellChild(command: "exhaust" | "free"): Promise<Record<string, unknown>> {
  child.stdin.write(`${command}\n`);
  return childSays();
}

before(async () => {
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-fd-")));
  await fs.mkdir(path.join(base, "folder"));
  await fs.writeFile(path.join(base, "file.txt"), CONTENT);
  await fs.writeFile(path.join(base, "folder", "inside.txt"), "x");
  child = spawn("prlimit", ["--nofile=256:256", process.execPath, CHILD, base], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  child.stderr.setEncoding("utf8");
  let stderr = "";
  child.stderr.on("data", (text: string) => {
    stderr += text;
  });
  lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const hello = await childSays().catch((err: unknown) => {
    throw new Error(`the server child did not start: ${stderr}`, { cause: err });
  });
  conn = await ProtocolConnection.open(hello["port"] as number);
});

after(async () => {
  conn.close();
  child.stdin.end(); // the child stops its server and exits
  if (child.exitCode === null) await once(child, "exit");
  await fs.rm(base, { recursive: true, force: true });
});

test("issue-11: out of descriptors, GET, LIST and friends answer BUSY; freed, the same connection works", async () => {
  assertOk(await conn.request({ op: "STAT", path: "/file.txt" })); // the connection works
  const exhausted = await tellChild("exhaust");
  assert.ok((exhausted["held"] as number) > 0, JSON.stringify(exhausted));

  // A download on the open connection: a busy code, the connection still in step.
  assertError(await conn.request({ op: "GET", path: "/file.txt" }), "BFTP_ERR_BUSY");
  for (const request of [
    { op: "LIST", path: "/folder" },
    { op: "HASH", path: "/file.txt" },
    { op: "CD", path: "/folder" },
    { op: "MKDIR", path: "/made", parents: true },
    { op: "DELETE", path: "/folder/inside.txt" },
  ]) {
    const reply = await conn.request(request);
    assertError(reply, "BFTP_ERR_BUSY");
    assert.equal(reply["close"], undefined, "not fatal");
  }
  // Pipelined GETs (prepared ahead of their turn) are refused the same way, in order.
  await conn.send({ op: "GET", path: "/file.txt", tag: 1 });
  await conn.send({ op: "GET", path: "/file.txt", tag: 2 });
  for (const tag of [1, 2]) {
    const reply = await conn.reply();
    assertError(reply, "BFTP_ERR_BUSY");
    assert.equal(reply["tag"], tag);
  }
  assertOk(await conn.request({ op: "NOOP" }));

  const freed = await tellChild("free");
  assert.equal(freed["freed"], exhausted["held"]);

  // The client retries on the same connection, and everything works again.
  const got = await conn.get("/file.txt");
  assertOk(got.reply);
  assert.equal(got.data?.toString("utf8"), CONTENT);
  assertOk(got.trailer ?? { ok: false });
  const listed = await conn.list("/folder");
  assertOk(listed.trailer ?? { ok: false });
  assert.deepEqual(
    listed.entries?.map((e) => e["name"]),
    ["inside.txt"],
  );
  assert.deepEqual(await conn.request({ op: "MKDIR", path: "/made", parents: true }), {
    ok: true,
    path: "/made",
  });
  assert.deepEqual(await fs.readdir(path.join(base, "folder")), ["inside.txt"]);
});
