import assert from "node:assert/strict";
import { once } from "node:events";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { throttleProxy } from "../fixtures/throttle-proxy.js";
import { jsonOf, runCli, startCli } from "../helpers/run-cli.js";
import { spawnServe, type ServeProcess } from "../helpers/spawn-serve.js";

// Issue 13, item 8: messages that name the right thing, each with its stable code. Port 99999
// was "not a URL"; a busy port printed Node's raw "listen EADDRINUSE"; usage errors under
// --json came out as plain text only; rm on a folder said "(use RMDIR) (folders go with bftp
// rmdir)".

let base: string;
let serve: ServeProcess;
let url: string;

before(async () => {
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-cli-messages-")));
  await fs.mkdir(path.join(base, "served", "a-folder"), { recursive: true });
  await fs.writeFile(path.join(base, "served", "slow.bin"), Buffer.alloc(4 * 1024 * 1024, 1));
  serve = await spawnServe(path.join(base, "served"));
  url = `bftp://127.0.0.1:${serve.port}`;
});

after(async () => {
  await serve.stop();
  await fs.rm(base, { recursive: true, force: true });
});

const errorOf = (result: { stdout: string }) =>
  jsonOf(result)["error"] as { code: string; message: string };

test("a port out of range says so, not 'not a URL'", async () => {
  const result = await runCli(["ls", "--json", "bftp://127.0.0.1:99999/"]);
  assert.equal(result.code, 2);
  const error = errorOf(result);
  assert.equal(error.code, "BFTP_ERR_INVALID_ARGUMENT");
  assert.match(error.message, /port 99999 is out of range/u);
  const garbage = await runCli(["ls", "--json", "bftp://[::1/"]);
  assert.equal(errorOf(garbage).code, "BFTP_ERR_INVALID_ARGUMENT");
  assert.doesNotMatch(errorOf(garbage).message, /out of range/u);
});

test("a busy port is BFTP_ERR_ADDRESS_IN_USE, with the next step, not Node's raw text", async () => {
  const holder = net.createServer();
  holder.listen(0, "127.0.0.1");
  await once(holder, "listening");
  const { port } = holder.address() as net.AddressInfo;
  try {
    const result = await runCli([
      "serve",
      path.join(base, "served"),
      "--port",
      String(port),
      "--config-dir",
      path.join(base, "config"),
    ]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /\(BFTP_ERR_ADDRESS_IN_USE\)/u);
    assert.match(result.stderr, /--port/u);
    assert.doesNotMatch(result.stderr, /EADDRINUSE/u);
  } finally {
    holder.close();
  }
});

test("a usage error under --json is JSON on stdout too (exit 2)", async () => {
  const result = await runCli(["get", "--json"]);
  assert.equal(result.code, 2);
  assert.equal(errorOf(result).code, "BFTP_ERR_INVALID_ARGUMENT");
  const unknown = await runCli(["ls", "--json", "--no-such-flag", `${url}/`]);
  assert.equal(unknown.code, 2);
  assert.equal(errorOf(unknown).code, "BFTP_ERR_INVALID_ARGUMENT");
});

test("rm on a folder says so once, and points at rmdir and rm -r", async () => {
  const result = await runCli(["rm", "--json", `${url}/a-folder`]);
  assert.equal(result.code, 1);
  const error = errorOf(result);
  assert.equal(error.code, "BFTP_ERR_IS_A_DIRECTORY");
  assert.match(error.message, /rmdir/u);
  assert.match(error.message, /rm -r/u);
  assert.doesNotMatch(error.message, /RMDIR/u);
});

test("a download cut midway says that -c resumes it (exit 4), and the partial is kept", async () => {
  const proxy = await throttleProxy(serve.port, 256 * 1024); // 4 MiB: about 16 s
  const work = await fs.mkdtemp(path.join(base, "cut-"));
  let closed = false;
  try {
    const running = startCli(["get", `bftp://127.0.0.1:${proxy.port}/slow.bin`, "slow.bin"], {
      cwd: work,
    });
    // Cut the connection once some bytes are in the partial (event-driven, bounded).
    for (let i = 0; i < 400; i++) {
      const size = await fs.stat(path.join(work, "slow.bin.bftp-part")).then(
        (s) => s.size,
        () => 0,
      );
      if (size > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await proxy.close();
    closed = true;
    const result = await running.result;
    assert.equal(result.code, 4, result.stderr);
    assert.match(result.stderr, /\(BFTP_ERR_(CONNECTION_LOST|UNEXPECTED_EOF|PEER_CLOSED)\)/u);
    assert.match(result.stderr, /with -c to resume/u);
    assert.ok((await fs.stat(path.join(work, "slow.bin.bftp-part"))).size > 0);
  } finally {
    if (!closed) await proxy.close();
  }
});

test("a piped download cut midway does not offer -c", async () => {
  const proxy = await throttleProxy(serve.port, 256 * 1024);
  let closed = false;
  try {
    const running = startCli(["get", `bftp://127.0.0.1:${proxy.port}/slow.bin`, "-"]);
    await new Promise<void>((resolve) => {
      running.child.stdout?.once("data", () => {
        resolve();
      });
    });
    await proxy.close();
    closed = true;
    const result = await running.result;
    assert.equal(result.code, 4, result.stderr);
    assert.doesNotMatch(result.stderr, /-c to resume/u);
  } finally {
    if (!closed) await proxy.close();
  }
});
