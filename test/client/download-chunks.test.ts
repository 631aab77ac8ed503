// `BftpClient.downloadChunks` (issue 12): a download handed piece by piece to a function,
// each piece a view of the receive memory that the next read reuses. The pieces must still
// be exactly the file's bytes in order (a slab reused too early would corrupt them after
// the checksum took them, and the download would pass its own check), a handler that
// throws must leave the connection usable, and the end-to-end check must still decide.
import assert from "node:assert/strict";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { BftpClient } from "../../src/client/client.js";
import { BftpError, isBftpError } from "../../src/errors.js";
import { rejectsWithCode } from "../helpers/assert-code.js";
import { serveBigAndSmall, type TestServer } from "../helpers/bftp-server.js";
import { CrcBlindProxy } from "../helpers/crc-blind-proxy.js";
import { throttleProxy } from "../fixtures/throttle-proxy.js";

let srv: TestServer;
let big: Buffer;
let small: Buffer;

before(async () => {
  ({ srv, big, small } = await serveBigAndSmall());
  await fs.writeFile(path.join(srv.root, "empty.bin"), "");
});

after(async () => {
  await srv.stop();
});

/** Downloads `remote` into copies of its pieces; also counts the distinct memory used. */
async function collect(
  client: BftpClient,
  remote: string,
  options: Parameters<BftpClient["downloadChunks"]>[2] = {},
): Promise<{ bytes: Buffer; pieces: number; memories: number; reported: number }> {
  const copies: Buffer[] = [];
  const memories = new Set<ArrayBufferLike>();
  const result = await client.downloadChunks(
    remote,
    (chunk) => {
      copies.push(Buffer.from(chunk)); // a copy: the view is only valid during the call
      memories.add(chunk.buffer);
    },
    options,
  );
  return {
    bytes: Buffer.concat(copies),
    pieces: copies.length,
    memories: memories.size,
    reported: result.bytes,
  };
}

test("24 MiB arrives as the file's bytes in order, read into reused memory", async () => {
  const client = await BftpClient.connect({ host: "127.0.0.1", port: srv.port });
  try {
    for (let round = 0; round < 3; round++) {
      const { bytes, pieces, memories, reported } = await collect(client, "/big.bin");
      assert.equal(reported, big.length);
      assert.ok(bytes.equals(big), `round ${round}: the pieces differ from the served file`);
      // The point of the call: the socket reads into the same slab again once a piece is
      // handed on, instead of 1 MiB of fresh memory per 1 MiB received (24 or more here).
      assert.ok(
        memories <= 3,
        `round ${round}: ${pieces} pieces came in ${memories} distinct slabs`,
      );
    }
  } finally {
    await client.close();
  }
});

test("through a link that pauses every 16 KiB the pieces are still the file's bytes", async () => {
  const proxy = await throttleProxy(srv.port, 64 * 1024 * 1024);
  const client = await BftpClient.connect({ host: "127.0.0.1", port: proxy.port });
  try {
    const { bytes } = await collect(client, "/small.bin");
    assert.ok(bytes.equals(small), "the pieces differ from the served file");
  } finally {
    await client.close();
    await proxy.close();
  }
});

test("a range gives that range, and an empty file no piece", async () => {
  const client = await BftpClient.connect({ host: "127.0.0.1", port: srv.port });
  try {
    const range = await collect(client, "/small.bin", { offset: 1_000_003, length: 777_777 });
    assert.ok(range.bytes.equals(small.subarray(1_000_003, 1_000_003 + 777_777)));
    assert.equal(range.reported, 777_777);
    const empty = await collect(client, "/empty.bin");
    assert.equal(empty.pieces, 0);
    assert.equal(empty.reported, 0);
  } finally {
    await client.close();
  }
});

test("a handler that throws fails the download with its code, and the connection goes on", async () => {
  const client = await BftpClient.connect({ host: "127.0.0.1", port: srv.port });
  try {
    let calls = 0;
    const plain = await rejectsWithCode(
      client.downloadChunks("/big.bin", () => {
        calls++;
        if (calls === 3) throw new Error("consumer is full");
      }),
      "BFTP_ERR_LOCAL_FILE",
    );
    assert.equal(calls, 3, "no piece is handed on after the handler threw");
    assert.ok(isBftpError(plain) && plain.connectionUsable === true, "the connection is usable");
    await rejectsWithCode(
      client.downloadChunks("/small.bin", () => {
        throw new BftpError("BFTP_ERR_TRANSFER_ABORTED", "stopped by the consumer");
      }),
      "BFTP_ERR_TRANSFER_ABORTED",
    );
    // In step: the next download on the same connection is whole.
    const { bytes } = await collect(client, "/small.bin");
    assert.ok(bytes.equals(small));
  } finally {
    await client.close();
  }
});

test("a file that is missing fails before any piece", async () => {
  const client = await BftpClient.connect({ host: "127.0.0.1", port: srv.port });
  try {
    let calls = 0;
    await rejectsWithCode(
      client.downloadChunks("/no-such.bin", () => {
        calls++;
      }),
      "BFTP_ERR_NOT_FOUND",
    );
    assert.equal(calls, 0);
  } finally {
    await client.close();
  }
});

test("damage the checksum sees fails the download after its pieces were handed on", async () => {
  // The CRC-blind proxy changes the first bytes of each download in a way CRC-32 cannot see;
  // SHA-256 does: the pieces were delivered, and the promise says they are not to be trusted.
  const proxy = await CrcBlindProxy.start(srv.port);
  const client = await BftpClient.connect({ host: "127.0.0.1", port: proxy.port });
  try {
    let received = 0;
    await rejectsWithCode(
      client.downloadChunks(
        "/small.bin",
        (chunk) => {
          received += chunk.length;
        },
        { checksum: "sha256" },
      ),
      "BFTP_ERR_CHECKSUM_MISMATCH",
    );
    assert.equal(received, small.length);
    assert.equal(proxy.damaged, 1);
  } finally {
    await client.close();
    await proxy.close();
  }
});
