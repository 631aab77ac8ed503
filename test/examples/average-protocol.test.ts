// The average protocol's pure parts: the mean, request validation and reply parsing.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { decodeFrames, isBftpError } from "../../src/index.js";
import {
  AverageError,
  computeMean,
  encodeAverageReply,
  encodeAverageRequest,
  parseAverageReply,
  parseAverageRequest,
  type AverageReply,
} from "../../examples/average-protocol.js";

/** The code of whatever `fn` throws. */
function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof AverageError || isBftpError(err)) return err.code;
    throw err;
  }
  assert.fail("expected an error");
}

const request = (text: string): Buffer => Buffer.from(text, "utf8");

describe("computeMean", () => {
  test("is the arithmetic mean", () => {
    assert.equal(computeMean([1, 2, 3, 4]), 2.5);
    assert.equal(computeMean([7]), 7);
    assert.equal(computeMean([-1, -2]), -1.5);
    assert.equal(computeMean([0.5, 0.25, 0.25]), 1 / 3);
  });

  test("never overflows where a plain sum would", () => {
    assert.equal(computeMean([1e308, 1e308]), 1e308);
    assert.equal(computeMean([-1e308, -1e308, -1e308]), -1e308);
    assert.equal(computeMean([Number.MAX_VALUE, Number.MAX_VALUE]), Number.MAX_VALUE);
    assert.equal(computeMean([1e308, -1e308]), 0);
    assert.equal(
      computeMean([Number.MAX_VALUE, -Number.MAX_VALUE, Number.MAX_VALUE]),
      Number.MAX_VALUE / 3,
    );
  });

  test("stays close to the exact mean of many values", () => {
    const values = Array.from({ length: 10_000 }, (_, i) => (i % 97) * 1.5 - 40);
    const exact = values.reduce((sum, x) => sum + x, 0) / values.length;
    assert.ok(Math.abs(computeMean(values) - exact) < 1e-9);
  });
});

describe("parseAverageRequest", () => {
  test("accepts a JSON array of finite numbers", () => {
    assert.deepEqual(parseAverageRequest(request("[1, 2.5, -3e2]")), [1, 2.5, -300]);
    assert.deepEqual(parseAverageRequest(request(" [0] ")), [0]);
  });

  const bad: [string, Buffer, string][] = [
    ["malformed JSON", request("[1, 2"), "AVG_ERR_BAD_JSON"],
    ["an empty payload", request(""), "AVG_ERR_BAD_JSON"],
    ["an object", request('{"numbers": [1]}'), "AVG_ERR_NOT_AN_ARRAY"],
    ["a bare number", request("42"), "AVG_ERR_NOT_AN_ARRAY"],
    ["null", request("null"), "AVG_ERR_NOT_AN_ARRAY"],
    ["a string element", request('[1, "2"]'), "AVG_ERR_NOT_A_NUMBER"],
    ["a null element", request("[1, null]"), "AVG_ERR_NOT_A_NUMBER"],
    ["a nested array", request("[[1]]"), "AVG_ERR_NOT_A_NUMBER"],
    ["a number JSON reads as Infinity", request("[1e999]"), "AVG_ERR_NOT_FINITE"],
    ["an empty array", request("[]"), "AVG_ERR_EMPTY"],
    ["invalid UTF-8", Buffer.from([0x5b, 0xff, 0xfe, 0x5d]), "BFTP_ERR_BAD_UTF8"],
  ];
  for (const [what, payload, code] of bad) {
    test(`refuses ${what} with ${code}`, () => {
      assert.equal(
        codeOf(() => parseAverageRequest(payload)),
        code,
      );
    });
  }
});

describe("encodeAverageRequest", () => {
  test("is one size-header frame around the JSON array", () => {
    assert.equal(encodeAverageRequest([1, 2, 3]).toString(), "00000007[1,2,3]");
    const { frames, rest } = decodeFrames(encodeAverageRequest([0.5, -2]), { maxSize: 100 });
    assert.equal(rest.length, 0);
    assert.deepEqual(
      frames.map((f) => parseAverageRequest(f)),
      [[0.5, -2]],
    );
  });

  test("refuses numbers JSON cannot carry", () => {
    assert.equal(
      codeOf(() => encodeAverageRequest([1, Infinity])),
      "AVG_ERR_NOT_FINITE",
    );
    assert.equal(
      codeOf(() => encodeAverageRequest([NaN])),
      "AVG_ERR_NOT_FINITE",
    );
  });
});

describe("replies", () => {
  test("round-trip through a frame", () => {
    const replies: AverageReply[] = [
      { mean: 2.5, count: 4 },
      { error: { code: "AVG_ERR_EMPTY", message: "Cannot average an empty array" } },
    ];
    for (const reply of replies) {
      const { frames } = decodeFrames(encodeAverageReply(reply), { maxSize: 1000 });
      assert.deepEqual(
        frames.map((f) => parseAverageReply(f)),
        [reply],
      );
    }
  });

  test("a reply that is not one is AVG_ERR_BAD_REPLY", () => {
    for (const text of ["", "[]", '{"mean": "2"}', '{"error": "x"}', '{"error": {"code": 1}}']) {
      assert.equal(
        codeOf(() => parseAverageReply(request(text))),
        "AVG_ERR_BAD_REPLY",
        text,
      );
    }
    assert.equal(
      codeOf(() => parseAverageReply(Buffer.from([0xc3]))),
      "BFTP_ERR_BAD_UTF8",
    );
  });
});
