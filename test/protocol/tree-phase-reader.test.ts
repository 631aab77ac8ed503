// Issue 12: readTreePhase hands whatever bytes arrived to the tree decoder whole, with no
// promise per record. Fed whole, byte by byte, at every split and over a real socket, it
// gives the decoder's events, leaves the next reply queued, and fails by code on an early
// end, a stall and a handler's error.
import assert from "node:assert/strict";
import net from "node:net";
import { test } from "node:test";
import { BftpError } from "../../src/errors.js";
import { createChecksum } from "../../src/protocol/checksum.js";
import { TreeDecoder, type TreeEvent } from "../../src/protocol/tree-decoder.js";
import { TreeEncoder } from "../../src/protocol/tree-encoder.js";
import { readTreePhase } from "../../src/protocol/tree-phase-reader.js";
import { HEX_SIZE_HEADER, StreamReader } from "../../src/wire/index.js";
import { rejectsWithCode } from "../helpers/assert-code.js";
import { readableFrom, splits } from "../helpers/feed.js";
import { clientTreeDecoder } from "../helpers/tree-decoder.js";

const MAX_CHUNK = 128;

function decoder(): TreeDecoder {
  return clientTreeDecoder(MAX_CHUNK);
}

function crc(bytes: Uint8Array): string {
  const sum = createChecksum("crc32");
  sum.update(bytes);
  return sum.digest();
}

/** A phase of `files` files (each `size` bytes of its own pattern) in a folder, and a failure. */
function phase(files: number, size: number): Buffer {
  const out = new TreeEncoder(MAX_CHUNK);
  out.folder("sub");
  for (let i = 0; i < files; i++) {
    const bytes = Buffer.alloc(size, i % 251);
    out.head(`sub/f${i}`, size, 1_763_700_000_000 + i);
    out.data(bytes);
    out.endOk(crc(bytes));
  }
  out.head("gone", 9, 1);
  out.endError({ code: "BFTP_ERR_FILE_CHANGED", status: 409, message: "changed" });
  return Buffer.concat([out.take(), out.finish()]);
}

/** What the decoder itself says of `bytes` pushed at once, data joined per file. */
function expected(bytes: Buffer): string[] {
  const events = decoder().push(bytes);
  return summary(events);
}

/** Events as comparable lines, a file's data joined (a split cuts it anywhere). */
function summary(events: readonly TreeEvent[]): string[] {
  const lines: string[] = [];
  let data: Buffer[] = [];
  for (const e of events) {
    if (e.type === "data") {
      data.push(Buffer.from(e.bytes));
      continue;
    }
    if (data.length > 0) lines.push(`data ${Buffer.concat(data).toString("hex")}`);
    data = [];
    lines.push(JSON.stringify(e));
  }
  return lines;
}

const NEXT = Buffer.concat([HEX_SIZE_HEADER.encode(4), Buffer.from("next")]);

test("a phase split anywhere gives the decoder's events and leaves the next frame queued", async () => {
  const bytes = phase(3, 150); // each file's data spans two D frames
  const want = expected(bytes);
  assert.equal(want.at(-1), JSON.stringify({ type: "trailer" }));
  for (const split of splits(Buffer.concat([bytes, NEXT]))) {
    const reader = new StreamReader(readableFrom(split.pieces));
    const events: TreeEvent[] = [];
    await readTreePhase(reader, decoder(), {
      timeout: 5000,
      onEvent: (e) => events.push(e),
    });
    assert.deepEqual(summary(events), want, split.name);
    assert.equal((await reader.readFrame({ maxSize: 10 })).toString(), "next", split.name);
  }
});

test("a phase that ends early fails with BFTP_ERR_PEER_CLOSED wherever it is cut", async () => {
  const bytes = phase(2, 10);
  for (let cut = 0; cut < bytes.length; cut++) {
    const reader = new StreamReader(readableFrom([bytes.subarray(0, cut)]));
    await rejectsWithCode(
      readTreePhase(reader, decoder(), { timeout: 5000, onEvent: () => undefined }),
      "BFTP_ERR_PEER_CLOSED",
    );
  }
});

test("a sender that stops mid-phase fails with BFTP_ERR_TIMEOUT after the stall deadline", async () => {
  const out = new TreeEncoder(MAX_CHUNK);
  out.folder("sub");
  out.head("sub/a", 10, 1);
  out.data(Buffer.from("hello")); // half the file, then nothing more
  const reader = new StreamReader(readableFrom([out.take()], { end: false }));
  const seen: string[] = [];
  const err = await rejectsWithCode(
    readTreePhase(reader, decoder(), { timeout: 50, onEvent: (e) => seen.push(e.type) }),
    "BFTP_ERR_TIMEOUT",
  );
  assert.equal(err.details["timeout"], 50);
  assert.deepEqual(seen, ["folder", "file", "data"]); // what arrived was handled before the stall
});

test("an error thrown by the handler ends the read with that error", async () => {
  const reader = new StreamReader(readableFrom([phase(2, 10)]));
  let calls = 0;
  await rejectsWithCode(
    readTreePhase(reader, decoder(), {
      timeout: 5000,
      onEvent: (e) => {
        calls++;
        if (e.type === "file") throw new BftpError("BFTP_ERR_LOCAL_FILE", "refused");
      },
    }),
    "BFTP_ERR_LOCAL_FILE",
  );
  assert.equal(calls, 2); // the folder, then the file that threw
});

test("a broken stream fails with the decoder's code", async () => {
  const bytes = phase(1, 10);
  const broken = Buffer.from(bytes);
  broken[HEX_SIZE_HEADER.width] = "Z".charCodeAt(0); // the first record's type
  const reader = new StreamReader(readableFrom([broken]));
  await rejectsWithCode(
    readTreePhase(reader, decoder(), { timeout: 5000, onEvent: () => undefined }),
    "BFTP_ERR_PROTOCOL",
  );
});

test("a bad timeout is refused before anything is read", async () => {
  const reader = new StreamReader(readableFrom([phase(1, 10)]));
  await rejectsWithCode(
    readTreePhase(reader, decoder(), { timeout: Number.NaN, onEvent: () => undefined }),
    "BFTP_ERR_INVALID_ARGUMENT",
  );
  // Nothing was consumed: the same reader still gives the whole phase.
  const events: TreeEvent[] = [];
  await readTreePhase(reader, decoder(), { timeout: 5000, onEvent: (e) => events.push(e) });
  assert.deepEqual(summary(events), expected(phase(1, 10)));
});

test("2,000 files over a real socket, written in odd pieces, arrive as the decoder reads them", async () => {
  const bytes = Buffer.concat([phase(2000, 100), NEXT]);
  const want = expected(bytes);
  const server = net.createServer((socket) => {
    // Pieces of 1 to 997 bytes, so records straddle every kind of boundary.
    let at = 0;
    let step = 1;
    const more = (): void => {
      while (at < bytes.length) {
        const piece = bytes.subarray(at, at + step);
        at += piece.length;
        step = (step * 31 + 7) % 997 || 1;
        if (!socket.write(piece)) {
          socket.once("drain", more);
          return;
        }
      }
      socket.end();
    };
    more();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  const socket = net.connect(port, "127.0.0.1");
  try {
    const reader = new StreamReader(socket);
    const events: TreeEvent[] = [];
    await readTreePhase(reader, decoder(), { timeout: 10_000, onEvent: (e) => events.push(e) });
    assert.deepEqual(summary(events), want);
    assert.equal((await reader.readFrame({ maxSize: 10, timeout: 10_000 })).toString(), "next");
  } finally {
    socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
});
