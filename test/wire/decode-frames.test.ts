import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  DECIMAL_SIZE_HEADER,
  decodeFrames,
  encodeFrame,
  type SizeHeader,
} from "../../src/wire/index.js";
import { throwsWithCode } from "../helpers/assert-code.js";
import { cutAt, splits } from "../helpers/feed.js";

/** Feeds pieces through the pure decoder the way a socket handler would, carrying `rest`. */
function feedAll(
  pieces: readonly Buffer[],
  maxSize: number,
  header?: SizeHeader,
): { frames: string[]; rest: number } {
  let pending: Buffer = Buffer.alloc(0);
  const frames: string[] = [];
  for (const piece of pieces) {
    const out = decodeFrames(Buffer.concat([pending, piece]), {
      maxSize,
      ...(header ? { header } : {}),
    });
    frames.push(...out.frames.map((f) => f.toString("utf8")));
    pending = out.rest;
  }
  return { frames, rest: pending.length };
}

const FIXTURE = Buffer.concat([
  encodeFrame("Hello Web Wide World"),
  encodeFrame(""),
  encodeFrame("héllo ✓"),
  encodeFrame("x"),
]);
const EXPECTED = ["Hello Web Wide World", "", "héllo ✓", "x"];

test("decodes the fixture whole, byte by byte and at every split point", () => {
  for (const { name, pieces } of splits(FIXTURE)) {
    assert.deepEqual(feedAll(pieces, 1024), { frames: EXPECTED, rest: 0 }, name);
  }
});

test("decimal frames decode at every split point", () => {
  const fixture = Buffer.concat(
    ["abc", "", "日本"].map((s) => encodeFrame(s, { header: DECIMAL_SIZE_HEADER })),
  );
  for (const { name, pieces } of splits(fixture)) {
    assert.deepEqual(feedAll(pieces, 64, DECIMAL_SIZE_HEADER).frames, ["abc", "", "日本"], name);
  }
});

test("an incomplete frame stays in rest, bounded by one frame", () => {
  const out = decodeFrames(Buffer.from("00000005abc"), { maxSize: 10 });
  assert.equal(out.frames.length, 0);
  assert.equal(out.rest.toString(), "00000005abc");
});

test("a header over the limit is refused before its payload arrives", () => {
  throwsWithCode(
    () => decodeFrames(Buffer.from("ffffffff"), { maxSize: 1 << 20 }),
    "BFTP_ERR_FRAME_TOO_LARGE",
  );
  throwsWithCode(
    () => decodeFrames(Buffer.from("00000401"), { maxSize: 1024 }),
    "BFTP_ERR_FRAME_TOO_LARGE",
  );
  assert.equal(decodeFrames(Buffer.from("00000400"), { maxSize: 1024 }).rest.length, 8);
});

test("a header that is not 8 hex digits is a coded error", () => {
  throwsWithCode(
    () => decodeFrames(Buffer.from("GET /x\n\n"), { maxSize: 10 }),
    "BFTP_ERR_BAD_FRAME_HEADER",
  );
});

test("property: encode then decode at random cuts gives back every payload", () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }),
      fc.array(fc.nat(3000), { maxLength: 12 }),
      (payloads, cuts) => {
        const wire = Buffer.concat(payloads.map((p) => encodeFrame(p)));
        let pending: Buffer = Buffer.alloc(0);
        const got: Buffer[] = [];
        for (const piece of cutAt(wire, cuts)) {
          const out = decodeFrames(Buffer.concat([pending, piece]), { maxSize: 300 });
          got.push(...out.frames.map((f) => Buffer.from(f)));
          pending = out.rest;
        }
        assert.equal(pending.length, 0);
        assert.deepEqual(
          got,
          payloads.map((p) => Buffer.from(p)),
        );
      },
    ),
  );
});

test("property: arbitrary bytes end as frames, a bounded rest, or a coded error", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      try {
        const out = decodeFrames(Buffer.from(bytes), { maxSize: 64 });
        assert.ok(out.rest.length < 8 + 64 + 1);
      } catch (err) {
        assert.ok(
          ["BFTP_ERR_BAD_FRAME_HEADER", "BFTP_ERR_FRAME_TOO_LARGE"].includes(
            (err as { code?: string }).code ?? "",
          ),
        );
      }
    }),
  );
});
