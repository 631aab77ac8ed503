// Issue 12, item 5: the server's downloads carve their buffers from one slab
// (src/server/transfer-arena.ts) and FileSender gives each back once nothing reads into it or
// writes from it. Checked: the arena's layout and bounds, and that a phase that succeeds, one
// whose peer is lost mid-way, and one that must run on two buffers all return every block,
// with the bytes intact (real sockets on 127.0.0.1, the protocol's own reader).
import assert from "node:assert/strict";
import { PassThrough, Writable } from "node:stream";
import { test } from "node:test";
import { BftpError } from "../../src/errors.js";
import { DataPhaseReader } from "../../src/protocol/data-phase-reader.js";
import { FileSender, type FileSenderOptions } from "../../src/protocol/file-sender.js";
import { TransferArena } from "../../src/server/transfer-arena.js";
import { StreamReader } from "../../src/wire/index.js";
import { rejectsWithCode } from "../helpers/assert-code.js";
import { socketPair } from "../helpers/socket-pair.js";

const KiB = 1024;
const BLOCK = 64 * KiB;

test("sizes round up to a power of two of blocks, each run aligned to its size", () => {
  const arena = new TransferArena(16 * BLOCK);
  const a = arena.take(1) as Buffer;
  const b = arena.take(BLOCK + 1) as Buffer; // two blocks, at an even block
  const c = arena.take(3 * BLOCK) as Buffer; // four blocks, at a multiple of four
  assert.equal(a.length, BLOCK);
  assert.equal(a.byteOffset, 0);
  assert.equal(b.length, 2 * BLOCK);
  assert.equal(b.byteOffset, 2 * BLOCK);
  assert.equal(c.length, 4 * BLOCK);
  assert.equal(c.byteOffset, 4 * BLOCK);
  assert.equal(arena.inUse, 7 * BLOCK);
  assert.equal(a.buffer, c.buffer, "one slab");
  assert.equal(arena.take(1024 * KiB + 1), undefined, "over 1 MiB");
  assert.equal(arena.take(16 * BLOCK), undefined, "no aligned run of 16 is free");
  for (const buffer of [a, b, c]) arena.give(buffer);
  assert.equal(arena.inUse, 0);
  assert.equal((arena.take(16 * BLOCK) as Buffer).length, 16 * BLOCK);
});

test("a full arena says so; a buffer given back twice, or not its own, changes nothing", () => {
  const arena = new TransferArena(4 * BLOCK);
  const taken = [0, 1, 2, 3].map(() => arena.take(BLOCK) as Buffer);
  assert.equal(arena.take(BLOCK), undefined);
  arena.give(taken[1] as Buffer);
  arena.give(taken[1] as Buffer);
  arena.give(Buffer.alloc(BLOCK));
  assert.equal(arena.inUse, 3 * BLOCK);
  assert.equal(arena.owns(taken[1] as Buffer), false);
  assert.equal(arena.owns(taken[2] as Buffer), true);
  const again = arena.take(BLOCK) as Buffer;
  assert.equal(again.byteOffset, BLOCK, "the block given back");
  assert.equal(arena.take(BLOCK), undefined);
});

const SIZE = 2 * 1024 * KiB + 333;
const FILE = Buffer.alloc(SIZE);
for (let i = 0; i < SIZE; i++) FILE[i] = (i * 13 + (i >> 11)) & 0xff;

function sender(arena: TransferArena, more: Partial<FileSenderOptions> = {}): FileSenderOptions {
  return {
    alg: "crc32",
    maxChunk: 64 * KiB,
    offset: 0,
    length: SIZE,
    readAt: (buffer, length, position, done) => {
      setImmediate(() => {
        done(null, FILE.copy(buffer, 0, position, Math.min(SIZE, position + length)));
      });
    },
    readError: (err) => new BftpError("BFTP_ERR_INTERNAL", "Cannot read", { cause: err }),
    bufferSize: () => 128 * KiB,
    timeout: 10_000,
    allocate: (size) => arena.take(size),
    release: (buffer) => {
      arena.give(buffer);
    },
    ...more,
  };
}

async function receive(reader: StreamReader): Promise<Buffer> {
  const phase = new DataPhaseReader(reader, "crc32", { maxChunk: 64 * KiB, maxTrailer: 8192 });
  const parts: Buffer[] = [];
  for await (const piece of phase.chunks()) parts.push(Buffer.from(piece));
  assert.equal(phase.result.failure, undefined);
  return Buffer.concat(parts);
}

test("a phase sent from lent buffers arrives whole, and every block comes back", async () => {
  const pair = await socketPair();
  try {
    const arena = new TransferArena(1024 * KiB);
    const sending = new FileSender(pair.client, sender(arena)).run();
    const data = await receive(new StreamReader(pair.server));
    await sending;
    assert.deepEqual(data, FILE);
    assert.equal(arena.inUse, 0);
  } finally {
    await pair.close();
  }
});

/**
 * A stream that passes every byte on at once but calls each write back only when told: so the
 * test, not the kernel's buffers, decides when the sender may reuse a buffer.
 */
class HeldWritable extends Writable {
  readonly passed = new PassThrough();
  readonly #held: (() => void)[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.passed.write(chunk);
    this.#held.push(callback);
  }
  /** Calls back the writes held so far. */
  release(): void {
    for (const callback of this.#held.splice(0)) callback();
  }
}

/**
 * Calls back the stream's held writes every millisecond until the phase is sent, then checks
 * that the bytes arrived whole: the buffers take turns as the test, not the kernel, allows.
 */
async function releasingEachTick(
  out: HeldWritable,
  received: Promise<Buffer>,
  sending: Promise<unknown>,
): Promise<void> {
  const pump = setInterval(() => {
    out.release();
  }, 1);
  try {
    assert.deepEqual(await received, FILE);
    await sending;
  } finally {
    clearInterval(pump);
  }
}

test("with the arena full after two buffers the rotation goes on with two", async () => {
  const arena = new TransferArena(4 * BLOCK); // two buffers of 128 KiB
  const out = new HeldWritable();
  let refused!: () => void;
  const wasRefused = new Promise<void>((resolve) => (refused = resolve));
  const sending = new FileSender(
    out,
    sender(arena, {
      allocate: (size) => {
        const buffer = arena.take(size);
        if (buffer === undefined) refused();
        return buffer;
      },
    }),
  ).run();
  const received = receive(new StreamReader(out.passed));
  // Both buffers are in the stream, unflushed: a third is asked for and refused.
  await wasRefused;
  assert.equal(arena.inUse, 4 * BLOCK);
  // From now on, each write is called back on a later tick: the two buffers take turns.
  await releasingEachTick(out, received, sending);
  assert.equal(arena.inUse, 0);
});

test("a peer lost mid-way: no block comes back before the stream has called back its writes", async () => {
  const arena = new TransferArena(1024 * KiB);
  const out = new HeldWritable();
  out.on("error", () => {});
  let lent!: () => void;
  const wasLent = new Promise<void>((resolve) => (lent = resolve));
  const sending = new FileSender(
    out,
    sender(arena, {
      allocate: (size) => {
        lent();
        return arena.take(size);
      },
    }),
  ).run();
  await wasLent;
  await new Promise((resolve) => setImmediate(resolve)); // the first read is written, held
  out.destroy();
  await rejectsWithCode(sending, "BFTP_ERR_CONNECTION_LOST");
  assert.ok(arena.inUse > 0, "a buffer the stream still holds is not given back");
  out.release(); // what a socket does for the writes it held when it was destroyed
  assert.equal(arena.inUse, 0);
});

test("takeUpTo gives the largest free run below the size asked, down to one block", () => {
  const arena = new TransferArena(16 * BLOCK);
  const first = arena.take(8 * BLOCK) as Buffer; // blocks 0-7
  const second = arena.take(4 * BLOCK) as Buffer; // blocks 8-11
  assert.equal((arena.takeUpTo(1024 * KiB) as Buffer).length, 4 * BLOCK); // 12-15
  assert.equal(arena.takeUpTo(1024 * KiB), undefined, "not one block free");
  arena.give(second);
  assert.equal((arena.takeUpTo(2 * BLOCK) as Buffer).length, 2 * BLOCK);
  assert.equal((arena.takeUpTo(3 * 1024 * KiB) as Buffer).length, 2 * BLOCK, "capped at 1 MiB");
  arena.give(first);
  assert.equal(arena.inUse, 8 * BLOCK);
});

test("a lent buffer larger than the size asked for now goes back, and a smaller one takes its turn", async () => {
  const arena = new TransferArena(1024 * KiB);
  const out = new HeldWritable();
  let size = 256 * KiB; // a quiet server: a large buffer
  const log: string[] = [];
  let full!: () => void;
  const rotationFull = new Promise<void>((resolve) => (full = resolve));
  const sending = new FileSender(
    out,
    sender(arena, {
      bufferSize: () => size,
      allocate: (want) => {
        log.push(`take ${want / KiB}`);
        size = 64 * KiB; // then a crowd arrives
        if (log.length === 4) full();
        return arena.take(want);
      },
      release: (buffer) => {
        log.push(`give ${buffer.length / KiB}`);
        arena.give(buffer);
      },
    }),
  ).run();
  const received = receive(new StreamReader(out.passed));
  await rotationFull; // four buffers out, their writes held
  await new Promise((resolve) => setImmediate(resolve));
  await releasingEachTick(out, received, sending);
  // The 256 KiB buffer went back as soon as its write was done, and a 64 KiB one replaced it.
  assert.deepEqual(log.slice(0, 6), [
    "take 256",
    "take 64",
    "take 64",
    "take 64",
    "give 256",
    "take 64",
  ]);
  assert.equal(arena.inUse, 0);
});

test("a rotation that the budget cuts to one buffer holds one, and the bytes still arrive whole", async () => {
  const arena = new TransferArena(1024 * KiB);
  const out = new HeldWritable();
  let most = 4; // a quiet server: four buffers
  let full!: () => void;
  const rotationFull = new Promise<void>((resolve) => (full = resolve));
  let taken = 0;
  let cut = false;
  const heldAtRead: number[] = []; // after the cut: the bytes lent when each read starts
  const base = sender(arena);
  const sending = new FileSender(
    out,
    sender(arena, {
      buffers: () => most,
      bufferSize: () => 64 * KiB,
      allocate: (want) => {
        if (++taken === 4) full();
        return arena.take(want);
      },
      readAt: (buffer, length, position, done) => {
        if (cut) heldAtRead.push(arena.inUse);
        base.readAt(buffer, length, position, done);
      },
    }),
  ).run();
  const received = receive(new StreamReader(out.passed));
  await rotationFull; // four buffers out, their writes held
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(arena.inUse, 4 * BLOCK);
  most = 1; // then a crowd arrives
  cut = true;
  await releasingEachTick(out, received, sending);
  // The stream calls the four held writes back one by one; each buffer then leaves the
  // rotation until one is left, which every later read reuses.
  assert.ok(heldAtRead.length > 20, `${heldAtRead.length} reads after the cut`);
  const late = heldAtRead.slice(-10);
  assert.ok(
    late.every((held) => held === BLOCK),
    `lent at the last reads: ${late.join(",")}`,
  );
  assert.equal(arena.inUse, 0);
});

test("with firstBuffer the buffers start small and double, and the small ones are replaced", async () => {
  const arena = new TransferArena(4096 * KiB);
  const out = new HeldWritable();
  const taken: number[] = [];
  const sending = new FileSender(
    out,
    sender(arena, {
      bufferSize: () => 256 * KiB,
      firstBuffer: 64 * KiB,
      allocate: (want) => {
        taken.push(want / KiB);
        return arena.take(want);
      },
    }),
  ).run();
  const received = receive(new StreamReader(out.passed));
  await releasingEachTick(out, received, sending);
  // 64, 128, then 256 KiB (the size asked for) for the rest of the rotation; the 64 and the
  // 128 KiB buffers leave it when their writes are called back, and two of 256 KiB replace them.
  assert.deepEqual(taken, [64, 128, 256, 256, 256, 256]);
  assert.equal(arena.inUse, 0);
});

test("with nothing to lend at all, the phase goes on with one buffer of its own", async () => {
  const arena = new TransferArena(1024 * KiB);
  const out = new HeldWritable();
  const used = new Set<Buffer>();
  let asked = 0;
  const base = sender(arena);
  const sending = new FileSender(
    out,
    sender(arena, {
      allocate: () => {
        asked++;
        return undefined; // every block is held by other transfers
      },
      readAt: (buffer, length, position, done) => {
        used.add(buffer);
        base.readAt(buffer, length, position, done);
      },
    }),
  ).run();
  await releasingEachTick(out, receive(new StreamReader(out.passed)), sending);
  assert.equal(used.size, 1, "one buffer of its own, reused for every read");
  assert.ok(asked >= 1);
  assert.equal(arena.inUse, 0);
});

test("a waiter is handed the next buffer given back, first come first served", async () => {
  const arena = new TransferArena(2 * BLOCK);
  const a = arena.take(BLOCK) as Buffer;
  const b = arena.take(BLOCK) as Buffer;
  const handed: string[] = [];
  const got = new Map<string, Buffer>();
  const waiter = (name: string) => (buffer: Buffer) => {
    handed.push(name);
    got.set(name, buffer);
  };
  arena.wait(waiter("first"));
  const withdrawSecond = arena.wait(waiter("second"));
  arena.wait(waiter("third"));
  assert.equal(arena.waiting, 3);
  withdrawSecond(); // the second gave up: it is skipped
  assert.equal(arena.waiting, 2);
  arena.give(b);
  assert.deepEqual(handed, [], "handed over on a microtask, never inside give");
  arena.give(b); // given back twice while on its way: ignored
  assert.equal(arena.owns(b), false, "on its way, the buffer is nobody's to give");
  await Promise.resolve();
  assert.deepEqual(handed, ["first"]);
  assert.equal(got.get("first"), b);
  assert.equal(arena.inUse, 2 * BLOCK, "the blocks stay out: they went to the waiter");
  assert.equal(arena.owns(b), true, "the waiter may give it back");
  arena.give(a);
  await Promise.resolve();
  assert.deepEqual(handed, ["first", "third"]);
  assert.equal(arena.waiting, 0);
  arena.give(b);
  arena.give(a);
  assert.equal(arena.inUse, 0, "with nobody waiting, given back is free again");
});

/** A sender whose buffers come from `arena`, waiting for one when it is full (GET's wiring). */
function taking(arena: TransferArena, more: Partial<FileSenderOptions> = {}): FileSenderOptions {
  return sender(arena, {
    bufferSize: () => BLOCK,
    buffers: () => 1,
    allocate: (size) => arena.takeUpTo(size),
    wait: (ready) => arena.wait(ready),
    othersWait: () => arena.waiting > 0,
    waitMs: 60_000, // longer than the test: a buffer of its own would be a failure here
    ...more,
  });
}

test("phases that find the arena full take turns with its buffers, each read in one of them", async () => {
  const arena = new TransferArena(2 * BLOCK); // two buffers for four phases
  const probe = arena.take(BLOCK) as Buffer;
  const slab = probe.buffer;
  arena.give(probe);
  const outs = [0, 1, 2, 3].map(() => new HeldWritable());
  const reads: { phase: number; lent: boolean }[] = [];
  const base = sender(arena);
  const sendings = outs.map((out, phase) =>
    new FileSender(
      out,
      taking(arena, {
        readAt: (buffer, length, position, done) => {
          reads.push({ phase, lent: buffer.buffer === slab });
          base.readAt(buffer, length, position, done);
        },
      }),
    ).run(),
  );
  const pumps = outs.map((out, phase) =>
    releasingEachTick(
      out,
      receive(new StreamReader(out.passed)),
      sendings[phase] as Promise<unknown>,
    ),
  );
  await Promise.all(pumps);
  // Every phase read while the others were still going: they took turns, none waited for
  // another to finish (each phase is 33 reads of 64 KiB).
  const firstReads = [0, 1, 2, 3].map((phase) => reads.findIndex((r) => r.phase === phase));
  const lastReads = [0, 1, 2, 3].map((phase) => reads.map((r) => r.phase).lastIndexOf(phase));
  assert.ok(
    Math.max(...firstReads) < Math.min(...lastReads),
    `first reads ${firstReads.join(",")}, last reads ${lastReads.join(",")}`,
  );
  assert.ok(
    reads.every((r) => r.lent),
    "every read went into one of the arena's buffers, none into one of a phase's own",
  );
  assert.equal(arena.inUse, 0);
  assert.equal(arena.waiting, 0);
});

test("a wait past waitMs makes a buffer of its own, and the bytes arrive whole", async () => {
  const arena = new TransferArena(BLOCK);
  const held = arena.take(BLOCK) as Buffer; // another transfer's, never given back
  const out = new HeldWritable();
  const sending = new FileSender(out, taking(arena, { waitMs: 20 })).run();
  await releasingEachTick(out, receive(new StreamReader(out.passed)), sending);
  assert.equal(arena.waiting, 0, "the wait was withdrawn");
  arena.give(held);
  assert.equal(arena.inUse, 0);
});

/** Turns the event loop until a phase waits for one of `arena`'s buffers (at most 10 s). */
async function untilSomeoneWaits(arena: TransferArena): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (arena.waiting === 0 && Date.now() < deadline) {
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** A phase that waits for the one buffer of an arena, which `held` holds. */
async function waitingPhase(): Promise<{
  arena: TransferArena;
  held: Buffer;
  out: HeldWritable;
  sending: Promise<unknown>;
}> {
  const arena = new TransferArena(BLOCK);
  const held = arena.take(BLOCK) as Buffer;
  const out = new HeldWritable();
  out.on("error", () => {});
  const sending = new FileSender(out, taking(arena)).run();
  await untilSomeoneWaits(arena);
  return { arena, held, out, sending };
}

test("a phase whose peer is lost while it waits withdraws, and the slab stays whole", async () => {
  const { arena, held, out, sending } = await waitingPhase();
  assert.equal(arena.waiting, 1, "the phase waits for a buffer");
  out.destroy();
  await rejectsWithCode(sending, "BFTP_ERR_CONNECTION_LOST");
  assert.equal(arena.waiting, 0, "a phase that has settled waits no more");
  arena.give(held);
  assert.equal(arena.inUse, 0, "the buffer given back is free, not handed to a settled phase");
});

test("a buffer already on its way to a phase that settles goes back to the arena", async () => {
  const { arena, held, out, sending } = await waitingPhase();
  arena.give(held); // handed to the waiting phase on a microtask...
  out.emit("close"); // ...which settles first, in this same turn (as a socket's close does)
  await rejectsWithCode(sending, "BFTP_ERR_CONNECTION_LOST");
  out.destroy();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(arena.inUse, 0, "the phase gave the buffer it no longer wanted back");
});
