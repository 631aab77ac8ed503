// Issue 12: the tree phases read each file byte once, joining CRC-32s instead of computing
// the phase checksum over the bytes again. Every join must equal zlib's CRC-32 of the
// concatenation, for any bytes and lengths; the encoder and the checksum give the same values
// whether or not they are handed the body's CRC.
import assert from "node:assert/strict";
import { test } from "node:test";
import zlib from "node:zlib";
import fc from "fast-check";
import { crc32Hex, createChecksum, updateWithCrc } from "../../src/protocol/checksum.js";
import { crc32Byte, crc32Combine } from "../../src/protocol/crc32-combine.js";
import { TreeEncoder } from "../../src/protocol/tree-encoder.js";

const bytes = (max: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength: max });

test("crc32Combine equals zlib's CRC-32 of the two runs joined", () => {
  fc.assert(
    fc.property(bytes(300), bytes(5000), (a, b) => {
      const joined = zlib.crc32(Buffer.concat([a, b]));
      assert.equal(crc32Combine(zlib.crc32(a), zlib.crc32(b), b.length), joined);
    }),
    { numRuns: 500 },
  );
  // The check value of §9, cut everywhere.
  const nine = Buffer.from("123456789");
  for (let i = 0; i <= nine.length; i++) {
    const [a, b] = [nine.subarray(0, i), nine.subarray(i)];
    assert.equal(crc32Combine(zlib.crc32(a), zlib.crc32(b), b.length), 0xcbf43926, `cut ${i}`);
  }
});

test("crc32Combine joins any number of runs in any grouping, lengths past 4 GiB included", () => {
  fc.assert(
    fc.property(fc.array(bytes(200), { maxLength: 8 }), (runs) => {
      let left = 0;
      for (const run of runs) left = crc32Combine(left, zlib.crc32(run), run.length);
      assert.equal(left, zlib.crc32(Buffer.concat(runs)));
    }),
  );
  // Associativity where zlib cannot check the whole: (A·B)·C = A·(B·C) for a huge B.
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.integer({ min: 0, max: 2 ** 40 }),
      fc.integer({ min: 0, max: 2 ** 20 }),
      (a, b, c, lenB, lenC) => {
        assert.equal(
          crc32Combine(crc32Combine(a, b, lenB), c, lenC),
          crc32Combine(a, crc32Combine(b, c, lenC), lenB + lenC),
        );
      },
    ),
  );
});

test("crc32Byte equals zlib's CRC-32 of one more byte", () => {
  fc.assert(
    fc.property(bytes(100), fc.integer({ min: 0, max: 255 }), (a, byte) => {
      const before = zlib.crc32(a);
      assert.equal(crc32Byte(byte, before), zlib.crc32(Buffer.of(byte), before));
    }),
  );
});

test("updateWithCrc returns the bytes' CRC-32 and leaves each checksum as update would", () => {
  fc.assert(
    fc.property(fc.array(bytes(3000), { maxLength: 6 }), (pieces) => {
      for (const alg of ["crc32", "sha256"] as const) {
        const plain = createChecksum(alg);
        const joined = createChecksum(alg);
        for (const piece of pieces) {
          plain.update(piece);
          assert.equal(updateWithCrc(joined, piece), zlib.crc32(piece));
        }
        assert.equal(joined.digest(), plain.digest(), alg);
      }
    }),
    { numRuns: 200 },
  );
});

test("a D frame pushed with its body's CRC-32 gives the same bytes and phase checksum", () => {
  fc.assert(
    fc.property(fc.array(bytes(120), { minLength: 1, maxLength: 10 }), (bodies) => {
      const plain = new TreeEncoder(128);
      const joined = new TreeEncoder(128);
      for (const body of bodies) {
        if (body.length === 0) continue;
        for (const [out, crc] of [
          [plain, undefined],
          [joined, zlib.crc32(body)],
        ] as const) {
          out.head("f", body.length, 0);
          const frame = out.dataFrame(body.length);
          frame.set(body, frame.length - body.length);
          out.pushFrame(frame, crc);
          out.endOk(zlib.crc32(body).toString(16).padStart(8, "0"));
        }
      }
      assert.equal(joined.crc, plain.crc);
      assert.deepEqual(joined.take(), plain.take());
    }),
    { numRuns: 200 },
  );
});

test("crc32Hex spells every 32-bit value as 8 lowercase hex digits", () => {
  const reference = (crc: number): string => crc.toString(16).padStart(8, "0");
  for (const crc of [0, 1, 0xf, 0x10, 0xff, 0x7fffffff, 0x80000000, 0xcbf43926, 0xffffffff])
    assert.equal(crc32Hex(crc), reference(crc));
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 0xffffffff }), (crc) => {
      assert.equal(crc32Hex(crc), reference(crc));
    }),
    { numRuns: 20_000 },
  );
  assert.equal(createChecksum("crc32").digest(), "00000000");
});
