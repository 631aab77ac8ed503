// PUTTREE's client against a server that breaks §8.14: results that do not match the files
// sent, and an error trailer followed by a fatal reply. The client rejects with a stable
// code and never takes a frame of the tree for the reply to a later request.
import assert from "node:assert/strict";
import { once } from "node:events";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { BftpClient } from "../../src/client/client.js";
import { uploadTree } from "../../src/client/tree.js";
import { encodeMessage } from "../../src/protocol/replies.js";
import { TreeEncoder } from "../../src/protocol/tree-encoder.js";
import { StreamReader, writeAll } from "../../src/wire/index.js";
import { rejectsWithCode } from "../helpers/assert-code.js";

type Script = (socket: net.Socket, reader: StreamReader) => Promise<void>;

let local: string;

before(async () => {
  local = await fs.mkdtemp(path.join(os.tmpdir(), "bftp-puttree-hostile-"));
  await fs.writeFile(path.join(local, "a.txt"), "alpha\n");
  await fs.writeFile(path.join(local, "b.txt"), "beta\n");
});

after(async () => {
  await fs.rm(local, { recursive: true, force: true });
});

/** A server that answers HELLO (with "puttree") and MKDIR, then plays `script` for PUTTREE. */
async function withServer(script: Script, body: (port: number) => Promise<void>): Promise<void> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    const reader = new StreamReader(socket);
    void (async () => {
      for (;;) {
        const req = JSON.parse(
          (await reader.readFrame({ maxSize: 65_536, timeout: 10_000 })).toString("utf8"),
        ) as { op: string; path?: string };
        if (req.op === "HELLO") {
          await writeAll(
            socket,
            encodeMessage({
              ok: true,
              version: 1,
              server: "hostile/0",
              auth: { required: false, methods: ["anonymous"] },
              limits: { maxControlFrame: 8192, maxChunk: 1 << 20 },
              checksums: ["crc32", "sha256"],
              capabilities: ["pipelining", "tree", "puttree"],
            }),
          );
        } else if (req.op === "MKDIR") {
          await writeAll(socket, encodeMessage({ ok: true, path: req.path ?? "/" }));
        } else if (req.op === "PUTTREE") {
          await writeAll(socket, encodeMessage({ ok: true, path: req.path ?? "/" }));
          await script(socket, reader);
        } else {
          await writeAll(socket, encodeMessage({ ok: true, path: "/" }));
        }
      }
    })().catch(() => socket.destroy());
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  try {
    await body((server.address() as net.AddressInfo).port);
  } finally {
    for (const socket of sockets) socket.destroy();
    server.close();
    await once(server, "close");
  }
}

test("results for files that were never sent are a broken stream (BFTP_ERR_PROTOCOL)", async () => {
  await withServer(
    async (socket) => {
      const out = new TreeEncoder(1 << 20);
      out.result("../../etc/passwd");
      await writeAll(socket, Buffer.concat([out.take(), out.finish()]));
    },
    async (port) => {
      const client = await BftpClient.connect({ host: "127.0.0.1", port });
      try {
        await rejectsWithCode(uploadTree(client, local, "/up"), "BFTP_ERR_PROTOCOL");
      } finally {
        await client.close();
      }
    },
  );
});

test("an error trailer then a fatal reply: the code is the server's, the connection ends", async () => {
  const error = { code: "BFTP_ERR_BAD_REQUEST", status: 400, message: "broken" };
  await withServer(
    async (socket) => {
      const out = new TreeEncoder(1 << 20);
      await writeAll(socket, Buffer.concat([out.take(), out.finish(error)]));
      await writeAll(socket, encodeMessage({ ok: false, close: true, error }));
    },
    async (port) => {
      const client = await BftpClient.connect({ host: "127.0.0.1", port });
      try {
        await rejectsWithCode(uploadTree(client, local, "/up"), "BFTP_ERR_BAD_REQUEST");
        // The fatal reply was read as PUTTREE's and closed the connection: it cannot be
        // taken for the reply to a later request.
        assert.equal(client.connection.socket.destroyed, true);
        await assert.rejects(client.pwd());
      } finally {
        await client.close();
      }
    },
  );
});
