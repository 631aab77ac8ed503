import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { DECIMAL_SIZE_HEADER, HEX_SIZE_HEADER, encodeFrame } from "../../src/wire/index.js";
import { throwsWithCode } from "../helpers/assert-code.js";

test("hex header matches the classic send_size: 20 bytes is 00000014", () => {
  assert.equal(HEX_SIZE_HEADER.encode(20).toString(), "00000014");
  assert.equal(encodeFrame("Hello Web Wide World").toString(), "00000014Hello Web Wide World");
  assert.equal(HEX_SIZE_HEADER.encode(0).toString(), "00000000");
  assert.equal(HEX_SIZE_HEADER.encode(0xffffffff).toString(), "ffffffff");
});

test("decimal header matches the classic send_string: 8 zero-padded digits", () => {
  assert.equal(DECIMAL_SIZE_HEADER.encode(20).toString(), "00000020");
  assert.equal(DECIMAL_SIZE_HEADER.encode(99_999_999).toString(), "99999999");
  assert.equal(encodeFrame("é", { header: DECIMAL_SIZE_HEADER }).toString(), "00000002é");
});

test("encoders refuse lengths the header cannot state", () => {
  throwsWithCode(() => HEX_SIZE_HEADER.encode(0x1_0000_0000), "BFTP_ERR_FRAME_TOO_LARGE");
  throwsWithCode(() => DECIMAL_SIZE_HEADER.encode(100_000_000), "BFTP_ERR_FRAME_TOO_LARGE");
  throwsWithCode(() => HEX_SIZE_HEADER.encode(-1), "BFTP_ERR_INVALID_ARGUMENT");
  throwsWithCode(() => HEX_SIZE_HEADER.encode(1.5), "BFTP_ERR_INVALID_ARGUMENT");
});

test("hex parser accepts upper and lower case, nothing else", () => {
  assert.equal(HEX_SIZE_HEADER.parse(Buffer.from("0000ABcd"), 0), 0xabcd);
  assert.equal(HEX_SIZE_HEADER.parse(Buffer.from("xx00000010"), 2), 16);
  // Python's int(x, 16) accepts these; a strict header must not.
  for (const bad of [
    "0x000014",
    " 0000014",
    "0000014 ",
    "0000_014",
    "-0000014",
    "+0000014",
    "0000001g",
  ]) {
    throwsWithCode(() => HEX_SIZE_HEADER.parse(Buffer.from(bad), 0), "BFTP_ERR_BAD_FRAME_HEADER");
  }
});

test("decimal parser refuses hex digits", () => {
  throwsWithCode(
    () => DECIMAL_SIZE_HEADER.parse(Buffer.from("0000000a"), 0),
    "BFTP_ERR_BAD_FRAME_HEADER",
  );
});

test("property: parse(encode(n)) === n for both headers", () => {
  for (const header of [HEX_SIZE_HEADER, DECIMAL_SIZE_HEADER]) {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: header.maxLength }), (n) => {
        const bytes = header.encode(n);
        assert.equal(bytes.length, 8);
        assert.equal(header.parse(bytes, 0), n);
      }),
    );
  }
});

test("property: any 8 bytes either parse to a length in range or throw the coded error", () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 8, maxLength: 8 }), (bytes) => {
      for (const header of [HEX_SIZE_HEADER, DECIMAL_SIZE_HEADER]) {
        try {
          const n = header.parse(bytes, 0);
          assert.ok(n >= 0 && n <= header.maxLength);
        } catch (err) {
          assert.equal((err as { code?: string }).code, "BFTP_ERR_BAD_FRAME_HEADER");
        }
      }
    }),
  );
});
