import assert from "node:assert/strict";
import { once } from "node:events";
import fs from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { after, before, test } from "node:test";
import { BftpClient } from "../../src/client/client.js";
import { downloadMany } from "../../src/client/tree.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";

/**
 * A TCP proxy that counts connections, and how many GET requests the client had sent when the
 * first byte of a GET's reply came back: more than one means the requests were pipelined.
 */
class CountingProxy {
  readonly server: net.Server;
  connections = 0;
  getsBeforeFirstReply = -1;
  #gets = 0;

  constructor(target: number) {
    this.server = net.createServer((client) => {
      this.connections++;
      const upstream = net.connect(target, "127.0.0.1");
      client.on("error", () => {});
      upstream.on("error", () => {});
      let helloReplied = false;
      client.on("data", (chunk: Buffer) => {
        // Request frames are small JSON objects; count the GETs among them.
        this.#gets += chunk.toString("latin1").split('"op":"GET"').length - 1;
        upstream.write(chunk);
      });
      upstream.on("data", (chunk: Buffer) => {
        if (helloReplied && this.getsBeforeFirstReply < 0 && this.#gets > 0)
          this.getsBeforeFirstReply = this.#gets;
        helloReplied = true;
        client.write(chunk);
      });
      client.on("end", () => upstream.end());
      upstream.on("end", () => client.end());
    });
  }
}

let srv: TestServer;
let proxy: CountingProxy;

before(async () => {
  srv = await startServer();
  await fs.mkdir(path.join(srv.root, "small"));
  for (let i = 0; i < 200; i++)
    await fs.writeFile(path.join(srv.root, "small", `f${i}`), Buffer.alloc(4096, i));
  proxy = new CountingProxy(srv.port);
  proxy.server.listen(0, "127.0.0.1");
  await once(proxy.server, "listening");
});

after(async () => {
  proxy.server.close();
  await srv.stop();
});

test("downloadMany with perFile fetches many small files over one connection, pipelined, all verified", async () => {
  const { port } = proxy.server.address() as net.AddressInfo;
  const client = await BftpClient.connect({ host: "127.0.0.1", port });
  const out = path.join(srv.outside, "batch");
  await fs.mkdir(out);
  const result = await downloadMany(
    client,
    Array.from({ length: 200 }, (_, i) => ({
      remote: `/small/f${i}`,
      local: path.join(out, `f${i}`),
    })),
    // The per-file path (the list form, for servers that offer it, is download-many-list.test.ts).
    { window: 32, perFile: true },
  );
  await client.close();
  assert.equal(result.failed.length, 0);
  assert.equal(result.files.length, 200);
  for (const i of [0, 57, 199])
    assert.ok((await fs.readFile(path.join(out, `f${i}`))).equals(Buffer.alloc(4096, i)));
  assert.equal(proxy.connections, 1, "one connection");
  assert.ok(
    proxy.getsBeforeFirstReply > 1,
    `${proxy.getsBeforeFirstReply} GETs were sent before the first reply: pipelined`,
  );
});
