import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { after, before, test } from "node:test";
import { BftpClient } from "../../src/client/client.js";
import { isBftpError } from "../../src/errors.js";
import { stagedUploads, startServer, type TestServer } from "../helpers/bftp-server.js";
import { HEX_SIZE_HEADER, encodeFrame, writeAll } from "../../src/wire/index.js";
import { ProtocolConnection, crc32 } from "../helpers/protocol-connection.js";
import { waitUntil } from "../helpers/wait-until.js";

// Issue 11, item 2: two uploads to one path at once, over real sockets with the client
// library, resumable as `bftp put` sends them. Each round must end with exactly one client's
// bytes in the file and truthful replies: without overwrite exactly one wins and the other is
// told BFTP_ERR_EXISTS; with it both are told "uploaded" and the file is one of them whole.
// (Before the fix both wrote into one partial file named from user and path: mixed files,
// and BFTP_ERR_NOT_FOUND when the other had already committed it.)

const ROUNDS = 50;

let srv: TestServer;
let clients: [BftpClient, BftpClient];

before(async () => {
  srv = await startServer({}, { tls: false });
  const connect = (): Promise<BftpClient> =>
    BftpClient.connect({ host: "127.0.0.1", port: srv.port });
  clients = [await connect(), await connect()];
});

after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await srv.stop();
});

/** How one client's upload ended: its reply's checksum, or the error code. */
type Outcome = { ok: true; checksum: string } | { ok: false; code: string };

async function upload(
  client: BftpClient,
  data: Buffer,
  remote: string,
  overwrite: boolean,
): Promise<Outcome> {
  try {
    const result = await client.upload(Readable.from([data]), remote, {
      size: data.length,
      resumable: true,
      overwrite,
    });
    return { ok: true, checksum: result.checksum.value };
  } catch (err) {
    if (!isBftpError(err)) throw err;
    return { ok: false, code: err.code };
  }
}

/** Two versions of different sizes, so a mix shows in the length as well as the bytes. */
function versions(): [Buffer, Buffer] {
  return [randomBytes(512 * 1024 + 11), randomBytes(384 * 1024 + 7)];
}

async function staged(): Promise<string[]> {
  return fs.readdir(srv.staging).catch(() => []);
}

function stagedSync(): string[] {
  return stagedUploads(srv);
}

test(`${ROUNDS} rounds of two uploads to one new path: one wins, the other is told it exists`, async () => {
  for (let round = 0; round < ROUNDS; round++) {
    const remote = `/race-new-${round}.bin`;
    const data = versions();
    const outcomes = await Promise.all(
      clients.map((client, i) => upload(client, data[i] as Buffer, remote, false)),
    );
    const winners = outcomes.flatMap((o, i) => (o.ok ? [i] : []));
    assert.equal(winners.length, 1, `round ${round}: ${JSON.stringify(outcomes)}`);
    const winner = winners[0] as number;
    const loser = outcomes[1 - winner] as Outcome;
    assert.deepEqual(loser, { ok: false, code: "BFTP_ERR_EXISTS" }, `round ${round}`);
    const mine = data[winner] as Buffer;
    assert.deepEqual(outcomes[winner], { ok: true, checksum: crc32(mine) }, `round ${round}`);
    const stored = await fs.readFile(path.join(srv.root, remote));
    assert.ok(stored.equals(mine), `round ${round}: the file holds the winner's bytes`);
  }
  assert.deepEqual(await staged(), [], "no upload file or partial is left");
});

test(`${ROUNDS} rounds of two overwriting uploads to one path: both told "uploaded", one whole in the file`, async () => {
  const remote = "/race-over.bin";
  await fs.writeFile(path.join(srv.root, "race-over.bin"), "the first version");
  for (let round = 0; round < ROUNDS; round++) {
    const data = versions();
    const outcomes = await Promise.all(
      clients.map((client, i) => upload(client, data[i] as Buffer, remote, true)),
    );
    for (const [i, outcome] of outcomes.entries()) {
      assert.deepEqual(
        outcome,
        { ok: true, checksum: crc32(data[i] as Buffer) },
        `round ${round}, client ${i}`,
      );
    }
    const stored = await fs.readFile(path.join(srv.root, remote));
    assert.ok(
      data.some((d) => stored.equals(d)),
      `round ${round}: the file is exactly one client's bytes (${stored.length} bytes)`,
    );
  }
  assert.deepEqual(await staged(), [], "no upload file or partial is left");
});

test("two uploads resuming one kept partial at once: one claims it, the other is refused", async () => {
  const whole = randomBytes(256 * 1024);
  const kept = 64 * 1024;
  for (let round = 0; round < 10; round++) {
    const remote = `/race-resume-${round}.bin`;
    await cutUpload(remote, whole.subarray(0, kept));
    const conns = await Promise.all([0, 1].map(() => ProtocolConnection.open(srv.port)));
    try {
      const rest = whole.subarray(kept);
      const fields = { offset: kept, resumable: true, size: whole.length };
      const replies = await Promise.all(conns.map((conn) => conn.put(remote, rest, fields)));
      const ok = replies.filter((r) => r.ok);
      assert.equal(ok.length, 1, `round ${round}: ${JSON.stringify(replies)}`);
      // The loser found no partial (claimed) or, if it came after the commit, the file.
      const [loser] = replies.filter((r) => !r.ok);
      assert.ok(
        ["BFTP_ERR_BAD_RANGE", "BFTP_ERR_EXISTS"].includes(loser?.error?.code ?? ""),
        `round ${round}: ${JSON.stringify(loser)}`,
      );
      assert.ok((await fs.readFile(path.join(srv.root, remote))).equals(whole));
    } finally {
      for (const conn of conns) conn.close();
    }
  }
  assert.deepEqual(await staged(), [], "the claimed partial was committed, nothing else kept");
});

/** A resumable PUT of `sent` whose connection ends before the terminator: its partial is kept. */
async function cutUpload(remote: string, sent: Buffer): Promise<void> {
  const conn = await ProtocolConnection.open(srv.port);
  await writeAll(conn.socket, [
    encodeFrame(JSON.stringify({ op: "PUT", path: remote, resumable: true })),
    HEX_SIZE_HEADER.encode(sent.length),
    sent,
  ]);
  conn.socket.end();
  await conn.closed();
  await waitUntil(() => srv.server.connections <= 2, "the cut session has ended");
  await waitUntil(() => stagedSync().some((n) => n.startsWith("resume-")), "the partial is kept");
}
