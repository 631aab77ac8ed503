// The hand reading of a tree stream's hot records (tree-record-text.ts) must never accept a
// body that JSON.parse would read differently or refuse: whenever it answers, the answer is
// what JSON.parse gives; and it answers for the encoder's own spelling of ordinary names, or
// it would not be worth having.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  readHeadText,
  readOkEndText,
  readOkResultText,
} from "../../src/protocol/tree-record-text.js";

const u64 = fc.oneof(
  fc.integer({ min: 0, max: 1000 }),
  fc.constantFrom(0, 9, 10, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, 2 ** 60),
  fc.maxSafeNat(),
);
const name = fc.oneof(
  fc.string({ minLength: 0, maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.constantFrom("a/b.txt", 'q"uote', "back\\slash", "tab\there", "\u007f", "é", "\ud800"),
);

/** Small damage to a body: a byte changed, dropped, doubled or inserted. */
const mutation = fc.tuple(
  fc.nat(),
  fc.constantFrom("set", "drop", "dup", "insert"),
  fc.integer({ min: 0, max: 255 }),
);

function mutate(body: Buffer, [at, kind, byte]: [number, string, number]): Buffer {
  if (body.length === 0) return body;
  const i = at % body.length;
  const bytes = [...body];
  if (kind === "set") bytes[i] = byte;
  else if (kind === "drop") bytes.splice(i, 1);
  else if (kind === "dup") bytes.splice(i, 0, bytes[i] as number);
  else bytes.splice(i, 0, byte);
  return Buffer.from(bytes);
}

function jsonOf(body: Buffer): unknown {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body)) as unknown;
  } catch {
    return undefined;
  }
}

test("whenever the hand reading answers, JSON.parse reads the same (H, E, R, damaged too)", () => {
  fc.assert(
    fc.property(
      name,
      u64,
      u64,
      fc.array(mutation, { maxLength: 3 }),
      (path, size, mtime, damage) => {
        const bodies = [
          `{"path":${JSON.stringify(path)},"size":${size},"mtime":${mtime}}`,
          `{"ok":true,"checksum":${JSON.stringify(path)}}`,
          `{"path":${JSON.stringify(path)},"ok":true}`,
        ].map((text) => damage.reduce<Buffer>((b, d) => mutate(b, d), Buffer.from(text)));
        const [head, end, result] = bodies as [Buffer, Buffer, Buffer];
        const h = readHeadText(head);
        if (h !== undefined) assert.deepEqual(h, jsonOf(head));
        const e = readOkEndText(end);
        if (e !== undefined) assert.deepEqual({ ok: true, checksum: e }, jsonOf(end));
        const r = readOkResultText(result);
        if (r !== undefined) assert.deepEqual({ path: r, ok: true }, jsonOf(result));
      },
    ),
    { numRuns: 3000 },
  );
});

test("the encoder's spelling of printable ASCII names is read by hand", () => {
  const ascii = fc
    .string({
      unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
      maxLength: 60,
    })
    .filter((s) => !s.includes('"') && !s.includes("\\"));
  fc.assert(
    fc.property(ascii, fc.maxSafeNat(), fc.maxSafeNat(), (path, size, mtime) => {
      assert.deepEqual(
        readHeadText(
          Buffer.from(`{"path":${JSON.stringify(path)},"size":${size},"mtime":${mtime}}`),
        ),
        { path, size, mtime },
      );
      assert.equal(
        readOkEndText(Buffer.from(`{"ok":true,"checksum":${JSON.stringify(path)}}`)),
        path,
      );
      assert.equal(
        readOkResultText(Buffer.from(`{"path":${JSON.stringify(path)},"ok":true}`)),
        path,
      );
    }),
  );
});

test("other spellings, numbers JSON.parse would read differently, and broken bodies are left to JSON.parse", () => {
  for (const body of [
    '{"path": "a","size":1,"mtime":2}', // a space
    '{"size":1,"path":"a","mtime":2}', // another order
    '{"path":"a","size":01,"mtime":2}', // a leading zero (not JSON)
    '{"path":"a","size":1e3,"mtime":2}', // an exponent
    '{"path":"a","size":-1,"mtime":2}',
    '{"path":"a","size":1.5,"mtime":2}',
    '{"path":"a","size":9007199254740993,"mtime":2}', // past the safe integers
    '{"path":"a","size":1,"mtime":2}x',
    '{"path":"a","size":1,"mtime":2',
    '{"path":"a\\u0041","size":1,"mtime":2}', // an escape
    '{"path":"é","size":1,"mtime":2}', // non-ASCII
    '{"path":"a","size":1,"mtime":2,"x":1}',
  ]) {
    assert.equal(readHeadText(Buffer.from(body)), undefined, body);
  }
  for (const body of [
    '{"ok":true,"checksum":"a"} ',
    '{"ok":true,"checksum":"a"',
    '{"ok":false,"checksum":"a"}',
  ]) {
    assert.equal(readOkEndText(Buffer.from(body)), undefined, body);
  }
  for (const body of [
    '{"path":"a","ok":true,"x":1}',
    '{"path":"a","ok":false}',
    '{"path":"a\\n","ok":true}',
  ]) {
    assert.equal(readOkResultText(Buffer.from(body)), undefined, body);
  }
});
