import assert from "node:assert/strict";
import { once } from "node:events";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import tls from "node:tls";
import type { ServerLimits } from "../../src/server/limits.js";
import type { LogFields, Logger } from "../../src/server/logger.js";
import { BftpServer } from "../../src/server/server.js";
import { encodeFrame } from "../../src/wire/index.js";
import { assertOk } from "../helpers/assert-reply.js";
import { testCertificate } from "../helpers/bftp-server.js";
import { ProtocolConnection, crc32 } from "../helpers/protocol-connection.js";
import { waitUntil } from "../helpers/wait-until.js";

// Issue 7: the server speaks TLS 1.2 or 1.3 and nothing older; a handshake has an absolute
// deadline and a cap, and one that fails (garbage, an old client, silence) is logged and
// counted without disturbing anyone else.

let base: string;
const CONTENT = Buffer.alloc(300_000, 0x5a);

before(async () => {
  base = await fs.mkdtemp(path.join(os.tmpdir(), "bftp-tls-"));
  await fs.writeFile(path.join(base, "a.bin"), CONTENT);
});

after(() => fs.rm(base, { recursive: true, force: true }));

/** Resolves when `socket` closes, reset or not (once() would reject on the reset's error). */
function closed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    socket.once("close", () => {
      resolve();
    });
  });
}

/** A logger that keeps the events, for counting failed handshakes. */
function captureLog(): Logger & { events: { event: string; fields: LogFields }[] } {
  const events: { event: string; fields: LogFields }[] = [];
  const keep = (event: string, fields: LogFields = {}): void => {
    events.push({ event, fields });
  };
  return { events, info: keep, warn: keep, error: keep };
}

async function withTlsServer(
  limits: Partial<ServerLimits>,
  body: (server: BftpServer, log: ReturnType<typeof captureLog>) => Promise<void>,
): Promise<void> {
  const log = captureLog();
  const server = await BftpServer.start({
    root: base,
    port: 0,
    log,
    sweep: false,
    tls: await testCertificate(),
    limits: { shutdownGraceMs: 1000, ...limits },
  });
  try {
    await body(server, log);
  } finally {
    await server.close();
  }
}

/** Connects with exactly `version`, willing to use old ciphers; resolves with the protocol or the error code. */
async function handshake(port: number, version: tls.SecureVersion): Promise<string> {
  const socket = tls.connect({
    port,
    host: "127.0.0.1",
    rejectUnauthorized: false,
    minVersion: version,
    maxVersion: version,
    // OpenSSL 3 refuses TLS 1.0/1.1 at its default security level; level 0 lets this
    // client offer them, so a refusal can only come from the server's minimum.
    ciphers: "DEFAULT:@SECLEVEL=0",
  });
  try {
    await once(socket, "secureConnect");
    return socket.getProtocol() ?? "?";
  } catch (err) {
    return `error ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
  } finally {
    socket.destroy();
  }
}

test("TLS 1.0 and 1.1 handshakes fail on the server's minimum; the same clients work elsewhere", async () => {
  // The control: a permissive server with the same certificate accepts these very clients.
  const permissive = tls.createServer({
    ...(await testCertificate()),
    minVersion: "TLSv1",
    ciphers: "DEFAULT:@SECLEVEL=0",
  });
  permissive.on("secureConnection", (s: tls.TLSSocket) => {
    s.on("error", () => {});
    s.resume(); // the client closes
  });
  permissive.listen(0, "127.0.0.1");
  await once(permissive, "listening");
  try {
    const { port } = permissive.address() as net.AddressInfo;
    assert.equal(await handshake(port, "TLSv1"), "TLSv1");
    assert.equal(await handshake(port, "TLSv1.1"), "TLSv1.1");
  } finally {
    permissive.close();
  }
  await withTlsServer({}, async (server, log) => {
    const { port } = server.address();
    assert.equal(await handshake(port, "TLSv1"), "error ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION");
    assert.equal(await handshake(port, "TLSv1.1"), "error ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION");
    await waitUntil(() => server.failedHandshakes === 2, "both failures are counted");
    const failed = log.events.filter((e) => e.event === "tls-handshake-failed");
    assert.deepEqual(
      failed.map((e) => e.fields["error"]),
      ["ERR_SSL_UNSUPPORTED_PROTOCOL", "ERR_SSL_UNSUPPORTED_PROTOCOL"],
    );
    assert.equal(server.connections, 0);
  });
});

test("TLS 1.2 and 1.3 handshakes succeed and carry a session", async () => {
  await withTlsServer({}, async (server) => {
    const { port } = server.address();
    assert.equal(await handshake(port, "TLSv1.2"), "TLSv1.2");
    assert.equal(await handshake(port, "TLSv1.3"), "TLSv1.3");
    const conn = await ProtocolConnection.open(port, { tls: true });
    try {
      const { reply, data, trailer } = await conn.get("/a.bin");
      assertOk(reply);
      assert.ok(data?.equals(CONTENT));
      assert.deepEqual(trailer, { ok: true, checksum: { alg: "crc32", value: crc32(CONTENT) } });
    } finally {
      conn.close();
    }
    assert.equal(server.failedHandshakes, 0);
  });
});

test("garbage on the TLS port does not disturb the server or a session in progress", async () => {
  await withTlsServer({}, async (server, log) => {
    const { port } = server.address();
    const session = await ProtocolConnection.open(port, { tls: true });
    try {
      const raw = async (bytes: Buffer | string): Promise<void> => {
        const socket = net.connect(port, "127.0.0.1");
        socket.on("error", () => {});
        await once(socket, "connect");
        socket.end(bytes);
        socket.resume();
        await closed(socket);
      };
      await Promise.all([
        raw(encodeFrame(JSON.stringify({ op: "HELLO", versions: [1] }))), // bftp:// by mistake
        raw("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        raw(Buffer.alloc(65_536, 0xff)),
        raw(Buffer.from("160301020001", "hex")), // a ClientHello cut short
        raw(""), // connect and close: a port scan
      ]);
      await waitUntil(() => server.failedHandshakes === 5, "five failures are counted");
      assert.equal(log.events.filter((e) => e.event === "tls-handshake-failed").length, 5);
      // The session that was open goes on, and new ones are served.
      assert.deepEqual(await session.request({ op: "NOOP" }), { ok: true });
      const { data } = await session.get("/a.bin");
      assert.ok(data?.equals(CONTENT));
      const fresh = await ProtocolConnection.open(port, { tls: true });
      assert.deepEqual(await fresh.request({ op: "NOOP" }), { ok: true });
      fresh.close();
      assert.equal(server.handshaking, 0);
    } finally {
      session.close();
    }
  });
});

test("a client that trickles a handshake is cut at the deadline, not kept alive by the bytes", async () => {
  await withTlsServer({ handshakeTimeoutMs: 300 }, async (server, log) => {
    const socket = net.connect(server.address().port, "127.0.0.1");
    socket.on("error", () => {});
    await once(socket, "connect");
    const ended = closed(socket);
    // A ClientHello header announcing 512 bytes, then one byte every 50 ms: any idle timer
    // would be reset forever (for up to 10 s here); only an absolute deadline ends it.
    socket.write(Buffer.from("1603010200", "hex"));
    let sent = 0;
    const trickle = setInterval(() => {
      if (sent++ < 200 && !socket.destroyed) socket.write(Buffer.of(0));
    }, 50);
    try {
      await ended;
      assert.ok(sent < 200, "the server closed the connection while bytes kept coming");
    } finally {
      clearInterval(trickle);
    }
    await waitUntil(() => server.failedHandshakes === 1, "the timeout is counted");
    const failure = log.events.find((e) => e.event === "tls-handshake-failed");
    assert.equal(failure?.fields["error"], "ERR_TLS_HANDSHAKE_TIMEOUT");
  });
});

test("handshakes in progress are capped; silent clients give their slots back at the deadline", async () => {
  await withTlsServer(
    { handshakeTimeoutMs: 400, maxConnections: 2, maxPerIp: 2 },
    async (server, log) => {
      const { port } = server.address();
      const silent = async (): Promise<net.Socket> => {
        const socket = net.connect(port, "127.0.0.1");
        socket.on("error", () => {});
        await once(socket, "connect");
        return socket;
      };
      const held = [await silent(), await silent()];
      await waitUntil(() => server.handshaking === 2, "both are handshaking");
      const closedAll = held.map((s) => closed(s));
      // A third is closed at once: nothing can be said before a handshake.
      const third = await silent();
      await closed(third);
      assert.equal(log.events.filter((e) => e.event === "tls-handshake-refused").length, 1);
      // The silent two are closed at their deadline, and their slots are free again.
      await Promise.all(closedAll);
      await waitUntil(() => server.handshaking === 0, "no handshake is left");
      assert.equal(server.failedHandshakes, 3);
      const conn = await ProtocolConnection.open(port, { tls: true });
      assert.deepEqual(await conn.request({ op: "NOOP" }), { ok: true });
      conn.close();
    },
  );
});
