// The CRC-32 every transfer is checked with (src/protocol/crc32.ts): the native build where it
// loads, zlib's otherwise. Both ends of a transfer may use either, so the two must give the
// same value for any bytes, any starting value and any split of a run, on Uint8Arrays that
// are views into larger buffers; and bftp must fall back to zlib when told to.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";
import fc from "fast-check";
import { crc32, crc32IsNative } from "../../src/protocol/crc32.js";

/**
 * zlib's CRC-32, except that continued over no bytes it stays at its start: zlib's answers 0
 * for an empty array with no memory behind it, such as `new Uint8Array(new ArrayBuffer(0))`.
 */
const reference = (bytes: Uint8Array, start = 0): number =>
  bytes.length === 0 ? start : zlib.crc32(bytes, start);

const MODULE = fileURLToPath(new URL("../../src/protocol/crc32.js", import.meta.url));

test("crc32: the native build is the one in use on this machine (linux-x64)", () => {
  // The platforms @node-rs/crc32 ships a build for include every machine this suite runs on;
  // zlib's would also be correct, but would mean the dependency did not load.
  if (process.platform === "linux" && process.arch === "x64") assert.equal(crc32IsNative, true);
});

test("crc32 equals zlib.crc32 for any bytes and starting value", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 70_000 }),
      fc.integer({ min: 0, max: 0xffffffff }),
      (bytes, start) => {
        assert.equal(crc32(bytes, start), reference(bytes, start));
        assert.equal(crc32(bytes), reference(bytes));
      },
    ),
    { numRuns: 300 },
  );
});

test("crc32 of a run equals the CRC continued over its two parts, at every split", () => {
  const run = Buffer.alloc(300);
  for (let i = 0; i < run.length; i++) run[i] = (i * 7919) & 255;
  const whole = zlib.crc32(run);
  for (let cut = 0; cut <= run.length; cut++) {
    assert.equal(crc32(run.subarray(cut), crc32(run.subarray(0, cut))), whole, `cut ${cut}`);
  }
  // The check value of PROTOCOL.md §9, byte by byte.
  const nine = Buffer.from("123456789");
  let crc = 0;
  for (const byte of nine) crc = crc32(Uint8Array.of(byte), crc);
  assert.equal(crc, 0xcbf43926);
});

test("crc32 continued over no bytes keeps its value, in both builds", () => {
  assert.equal(crc32(new Uint8Array(0), 0x89abcdef), 0x89abcdef);
  assert.equal(crc32(new Uint8Array(new ArrayBuffer(0)), 0x89abcdef), 0x89abcdef);
  assert.equal(crc32(new Uint8Array(0)), 0);
  // A checksum fed an empty chunk midway still ends at the CRC of the bytes.
  let crc = crc32(Buffer.from("1234"));
  crc = crc32(Buffer.alloc(0), crc);
  assert.equal(crc32(Buffer.from("56789"), crc), 0xcbf43926);
});

test("crc32 reads only its view of a larger buffer", () => {
  const backing = Buffer.alloc(64 * 1024, 0x5a);
  backing.write("123456789", 1000, "latin1");
  const view = new Uint8Array(backing.buffer, backing.byteOffset + 1000, 9);
  assert.equal(crc32(view), 0xcbf43926);
  assert.equal(crc32(backing.subarray(1000, 1009)), 0xcbf43926);
  assert.equal(crc32(backing.subarray(5, 5), 0x1234), 0x1234);
});

test("BFTP_CRC32=zlib selects zlib's CRC-32, with the same values", () => {
  const script =
    `const m = await import(${JSON.stringify(MODULE)});` +
    `console.log(JSON.stringify([m.crc32IsNative, m.crc32(Buffer.from("123456789"))]));`;
  const run = (env: NodeJS.ProcessEnv): unknown =>
    JSON.parse(
      execFileSync(process.execPath, ["--input-type=module", "-e", script], {
        env,
        encoding: "utf8",
      }),
    );
  assert.deepEqual(run({ ...process.env, BFTP_CRC32: "zlib" }), [false, 0xcbf43926]);
  // The fallback keeps a value continued over no bytes too.
  const empty =
    `const m = await import(${JSON.stringify(MODULE)});` +
    `console.log(JSON.stringify(m.crc32(new Uint8Array(new ArrayBuffer(0)), 12345)));`;
  const kept = execFileSync(process.execPath, ["--input-type=module", "-e", empty], {
    env: { ...process.env, BFTP_CRC32: "zlib" },
    encoding: "utf8",
  });
  assert.equal(JSON.parse(kept), 12345);
  const { BFTP_CRC32: _unset, ...without } = process.env;
  assert.deepEqual(run(without), [crc32IsNative, 0xcbf43926]);
});
