import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import zlib from "node:zlib";
import { HEX_SIZE_HEADER } from "../../src/wire/index.js";

// PROTOCOL.md's worked examples are what strangers implement from: every frame shown must
// be byte-exact. The spec lives two levels above dist/test/docs.
const spec = readFileSync(new URL("../../../PROTOCOL.md", import.meta.url), "utf8");
const frames = [...spec.matchAll(/^[CS]: ([0-9a-f]{8})(.*)$/gm)].map((m) => ({
  header: m[1] ?? "",
  payload: m[2] ?? "",
}));

test("PROTOCOL.md has worked examples to check", () => {
  assert.ok(frames.length >= 20, `found ${frames.length} example frames`);
});

test("every JSON frame in PROTOCOL.md's examples has the header of its UTF-8 length", () => {
  for (const { header, payload } of frames.filter((f) => f.payload.startsWith("{"))) {
    assert.doesNotThrow(() => JSON.parse(payload) as unknown, payload);
    assert.equal(header, HEX_SIZE_HEADER.encode(Buffer.byteLength(payload)).toString(), payload);
  }
});

test("every literal data frame and terminator in the examples is exact", () => {
  for (const { header, payload } of frames.filter(
    (f) => !f.payload.startsWith("{") && !f.payload.startsWith("<"),
  )) {
    assert.equal(header, HEX_SIZE_HEADER.encode(Buffer.byteLength(payload)).toString(), payload);
  }
});

test("the checksums quoted in PROTOCOL.md are right", () => {
  assert.equal(zlib.crc32("123456789").toString(16), "cbf43926");
  assert.match(spec, /crc32\("123456789"\) = cbf43926/);
  assert.equal(zlib.crc32("hello world").toString(16).padStart(8, "0"), "0d4a1185");
});
