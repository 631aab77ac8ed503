import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { FtpClient, FtpReplyError } from "../../../perf/compare/ftp-client.js";
import { PatternCheck } from "../../../perf/compare/pattern.js";
import { startFakeFtp } from "./fake-ftp-server.js";

const SIZE = 3 * 1024 * 1024 + 17; // not a multiple of any chunk size on either side

async function retrChecked(client: FtpClient, seed: number, size: number): Promise<number> {
  const check = new PatternCheck(seed, size);
  const bytes = await client.retr(`/p-${seed}-${size}`, (chunk) => {
    check.update(chunk);
  });
  check.verify("retr");
  return bytes;
}

test("logs in through a split multi-line greeting, then RETR and STOR move every byte", async () => {
  const server = await startFakeFtp();
  try {
    const client = await FtpClient.connect({ port: server.port, timeoutMs: 5000 });
    assert.equal(await retrChecked(client, 7, SIZE), SIZE);
    const { patternChunks } = await import("../../../perf/compare/pattern.js");
    assert.equal(await client.stor(`/p-9-${SIZE}`, patternChunks(9, SIZE)), SIZE);
    assert.equal(await retrChecked(client, 8, 0), 0); // an empty file too
    await client.quit();
    assert.deepEqual(
      server.commands.filter((c) => !c.startsWith("EPSV")),
      [
        "USER anonymous",
        "PASS bench@",
        "TYPE I",
        `RETR /p-7-${SIZE}`,
        `STOR /p-9-${SIZE}`,
        "RETR /p-8-0",
        "QUIT",
      ],
    );
  } finally {
    await server.close();
  }
});

test("a server's refusal (550) rejects that call with the reply and leaves the client usable", async () => {
  const server = await startFakeFtp();
  try {
    const client = await FtpClient.connect({ port: server.port, timeoutMs: 5000 });
    await assert.rejects(
      client.retr("/missing", () => {}),
      (err: unknown) => err instanceof FtpReplyError && err.reply.code === 550,
    );
    assert.equal(await retrChecked(client, 3, 1000), 1000);
    await client.quit();
  } finally {
    await server.close();
  }
});

test("falls back to PASV when the server refuses EPSV", async () => {
  const server = await startFakeFtp({ noEpsv: true });
  try {
    const client = await FtpClient.connect({ port: server.port, timeoutMs: 5000 });
    assert.equal(await retrChecked(client, 4, 70_000), 70_000);
    assert.equal(await retrChecked(client, 5, 10), 10);
    await client.quit();
    assert.equal(server.commands.filter((c) => c === "EPSV").length, 1, "EPSV asked once only");
    assert.equal(server.commands.filter((c) => c === "PASV").length, 2);
  } finally {
    await server.close();
  }
});

test("a silent server fails the call at the deadline, and later calls fail with that reason", async () => {
  const server = await startFakeFtp({ silentOn: "RETR" });
  try {
    const client = await FtpClient.connect({ port: server.port, timeoutMs: 2000 });
    let first: unknown;
    await assert.rejects(
      client
        .retr("/p-1-10", () => {})
        .catch((err: unknown) => {
          first = err;
          throw err;
        }),
    );
    assert.ok(!(first instanceof FtpReplyError));
    await assert.rejects(client.command("NOOP"), (err: unknown) => err === first);
    client.close();
  } finally {
    await server.close();
  }
});

test("a control connection closed mid-session fails the pending call", async () => {
  const server = await startFakeFtp({ hangUpOn: "STOR" });
  try {
    const client = await FtpClient.connect({ port: server.port, timeoutMs: 5000 });
    await assert.rejects(client.stor("/p-1-10", [Buffer.alloc(10)]));
    client.close();
  } finally {
    await server.close();
  }
});

const pyftpdlib = (() => {
  try {
    execFileSync("/usr/bin/python3", ["-c", "import pyftpdlib"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

test(
  "against a real server: pyftpdlib (when installed)",
  { skip: pyftpdlib ? false : "pyftpdlib is not installed (perf/compare/install-peers.sh)" },
  async () => {
    const { mkdtemp, rm, chmod, mkdir } = await import("node:fs/promises");
    const os = await import("node:os");
    const path = await import("node:path");
    const { writePatternFile, verifyPatternFile, patternChunks } =
      await import("../../../perf/compare/pattern.js");
    const { startServer, stopServer } = await import("../../../perf/compare/servers.js");
    const root = await mkdtemp(path.join(os.tmpdir(), "bftp-ftp-client-"));
    await chmod(root, 0o755);
    await mkdir(path.join(root, "up"), { mode: 0o777 });
    await writePatternFile(path.join(root, "f.bin"), 11, SIZE);
    const server = await startServer("pyftpdlib", { root, work: root, bftpWorkers: 1 });
    try {
      const client = await FtpClient.connect({ port: server.port, timeoutMs: 10_000 });
      const check = new PatternCheck(11, SIZE);
      assert.equal(
        await client.retr("/f.bin", (c) => {
          check.update(c);
        }),
        SIZE,
      );
      check.verify("pyftpdlib RETR");
      assert.equal(await client.stor("/up/g.bin", patternChunks(12, SIZE)), SIZE);
      await verifyPatternFile(path.join(root, "up", "g.bin"), 12, SIZE);
      await client.quit();
    } finally {
      await stopServer(server);
      await rm(root, { recursive: true, force: true });
    }
  },
);
