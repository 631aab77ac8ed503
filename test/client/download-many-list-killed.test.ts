// downloadMany over GETTREE's list form (PROTOCOL.md §8.13) cut midway: the connection dies
// after a few files have been committed. Every file under its own target is complete and
// byte for byte the server's; the file that was arriving is not left under its name, and
// the batch fails with the connection's error rather than reporting success.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { isBftpError } from "../../src/errors.js";
import { BftpClient } from "../../src/client/client.js";
import { downloadMany, type BatchItem } from "../../src/client/tree.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";

let srv: TestServer;
const FILES = new Map<string, Buffer>();

before(async () => {
  srv = await startServer();
  await fs.mkdir(path.join(srv.root, "k"));
  for (let i = 0; i < 150; i++) {
    const bytes = randomBytes(i % 10 === 9 ? 1_500_000 : 64 * 1024);
    FILES.set(`f${i}`, bytes);
    await fs.writeFile(path.join(srv.root, "k", `f${i}`), bytes);
  }
});

after(async () => {
  await srv.stop();
});

test("a batch cut midway leaves only complete files under their names", async () => {
  const local = await fs.mkdtemp(path.join(srv.outside, "..", "killed-"));
  const items: BatchItem[] = [...FILES.keys()].map((name) => ({
    remote: `/k/${name}`,
    local: path.join(local, name),
  }));
  const client = await BftpClient.connect({ host: "127.0.0.1", port: srv.port });
  let done = 0;
  try {
    await assert.rejects(
      downloadMany(client, items, {
        onFile: () => {
          done++;
          if (done === 5) client.connection.socket.destroy();
        },
      }),
      (err: unknown) => isBftpError(err),
    );
  } finally {
    await client.close().catch(() => undefined);
  }
  const names = await fs.readdir(local);
  assert.ok(names.length >= 5, `${names.length} files`);
  for (const name of names) {
    assert.ok(!name.endsWith(".bftp-part"), `a partial was left: ${name}`);
    assert.deepEqual(await fs.readFile(path.join(local, name)), FILES.get(name), name);
  }
});
