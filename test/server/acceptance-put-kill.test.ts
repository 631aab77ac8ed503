// Acceptance (PROTOCOL.md §8.8): "A client killed at a random point
// of a PUT (50 runs, half overwriting an existing file) leaves the target absent, intact with
// its old content, or complete with the new one, and no temporary file once the server has
// noticed the disconnect."
//
// Each run writes a prefix of one PUT's exact bytes (request, data frames, terminator,
// trailer) and then cuts the connection, half the time with a reset (RST) and half with a
// clean end (FIN). The cut point comes from a seeded PRNG: set BFTP_TEST_SEED to replay a run.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import { HEX_SIZE_HEADER, encodeFrame, writeAll } from "../../src/wire/index.js";
import { tempFilesUnder, waitUntil } from "../fixtures/tree-snapshot.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection, crc32 } from "../helpers/protocol-connection.js";

const RUNS = 50;
const SEED = Number(process.env["BFTP_TEST_SEED"] ?? Math.floor(Math.random() * 2 ** 32));

/** mulberry32: a small PRNG whose whole state is the seed, so a failing run can be replayed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Where in the PUT's bytes the cut falls; "whole" is after the last byte (reply unread). */
type Region = "request" | "data" | "terminator" | "trailer" | "whole";
const REGIONS: readonly Region[] = ["request", "data", "terminator", "trailer", "whole"];

/** One PUT, byte for byte, with the offsets at which each region begins. */
interface PutBytes {
  readonly bytes: Buffer;
  readonly starts: Readonly<Record<Region, number>>;
}

function putBytes(virtual: string, content: Buffer, chunk: number, overwrite: boolean): PutBytes {
  const request = encodeFrame(JSON.stringify({ op: "PUT", path: virtual, overwrite }));
  const frames: Buffer[] = [];
  for (let at = 0; at < content.length; at += chunk) {
    const piece = content.subarray(at, at + chunk);
    frames.push(HEX_SIZE_HEADER.encode(piece.length), piece);
  }
  const data = Buffer.concat(frames);
  const terminator = HEX_SIZE_HEADER.encode(0);
  const trailer = encodeFrame(
    JSON.stringify({ ok: true, checksum: { alg: "crc32", value: crc32(content) } }),
  );
  return {
    bytes: Buffer.concat([request, data, terminator, trailer]),
    starts: {
      request: 0,
      data: request.length,
      terminator: request.length + data.length,
      trailer: request.length + data.length + terminator.length,
      whole: request.length + data.length + terminator.length + trailer.length,
    },
  };
}

/**
 * A cut offset in `region`: before any of its bytes up to before its last one, so the region
 * is never complete. "whole" is the one cut after everything, where the server may commit.
 */
function cutIn(region: Region, put: PutBytes, random: () => number): number {
  const next = REGIONS[REGIONS.indexOf(region) + 1];
  if (next === undefined) return put.bytes.length;
  const start = put.starts[region];
  return start + Math.floor(random() * (put.starts[next] - start));
}

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

let srv: TestServer;

before(async () => {
  srv = await startServer();
  console.log(`acceptance-put-kill: seed ${SEED} (replay with BFTP_TEST_SEED=${SEED})`);
});

after(async () => {
  await srv.stop();
});

test(`${RUNS} PUTs cut at random points leave old, absent or complete files and no temporary file`, async (t) => {
  t.diagnostic(`seed ${SEED}`);
  const random = prng(SEED);
  const seen = { request: 0, data: 0, terminator: 0, trailer: 0, whole: 0, committed: 0 };
  const cuts = { rst: 0, fin: 0 };
  for (let run = 0; run < RUNS; run++) {
    const overwrite = run % 2 === 0;
    const reset = run % 4 === 0 || run % 4 === 3; // RST and FIN each with and without overwrite
    const name = `run-${run}.bin`;
    const target = path.join(srv.root, name);
    const oldContent = Buffer.from(`old content of run ${run}\n`.repeat(100));
    if (overwrite) await fs.writeFile(target, oldContent);

    const size = 1 + Math.floor(random() * 256 * 1024);
    const content = Buffer.alloc(size);
    for (let i = 0; i < size; i++) content[i] = Math.floor(random() * 256);
    const chunk = 1024 + Math.floor(random() * 63 * 1024);
    const put = putBytes(`/${name}`, content, chunk, overwrite);
    const region = REGIONS[Math.floor(random() * REGIONS.length)] ?? "data";
    const cut = cutIn(region, put, random);
    const what = `run ${run} (seed ${SEED}): ${reset ? "RST" : "FIN"} after ${cut} of ${put.bytes.length} bytes, in the ${region}, ${overwrite ? "overwriting" : "new file"}`;
    seen[region]++;
    cuts[reset ? "rst" : "fin"]++;

    const conn = await ProtocolConnection.open(srv.port);
    try {
      await writeAll(conn.socket, put.bytes.subarray(0, cut));
      if (reset) conn.socket.resetAndDestroy();
      else conn.socket.end();
      await waitUntil(() => srv.server.connections === 0, `the server noticed the cut: ${what}`);
    } finally {
      conn.close();
    }

    const now = await fs.readFile(target).catch(() => undefined);
    const complete = cut === put.bytes.length;
    if (now !== undefined && sha256(now) === sha256(content)) {
      assert.ok(complete, `committed without the whole upload: ${what}`);
      seen.committed++;
    } else if (complete && !reset) {
      // A clean end after the whole PUT: the server read it all, so it must have committed.
      assert.fail(`a complete upload followed by FIN was not committed: ${what}`);
    } else if (overwrite) {
      assert.ok(now?.equals(oldContent), `the old file is damaged: ${what}`);
    } else {
      assert.equal(now, undefined, `a partial file appeared: ${what}`);
    }
    assert.deepEqual(await tempFilesUnder(srv.root), [], `a temporary file remains: ${what}`);
  }
  t.diagnostic(`regions: ${JSON.stringify(seen)}, cuts: ${JSON.stringify(cuts)}`);
  assert.deepEqual(cuts, { rst: RUNS / 2, fin: RUNS / 2 });
});

test("the server still serves uploads after the cuts", async () => {
  const conn = await ProtocolConnection.open(srv.port);
  try {
    const content = Buffer.from("after the storm\n");
    const reply = await conn.put("/after.txt", content);
    assert.equal(reply.ok, true, JSON.stringify(reply));
    const got = await conn.get("/after.txt");
    assert.ok(got.data?.equals(content));
  } finally {
    conn.close();
  }
  assert.deepEqual(await tempFilesUnder(srv.root), []);
});
