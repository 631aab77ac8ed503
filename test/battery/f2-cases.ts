/**
 * F2's hostile conversations (issue 6): the kinds the issue lists, each built from a seeded
 * generator so a failing case can be replayed. A case is the bytes one connection sends.
 */
import zlib from "node:zlib";
import { frameOf, header } from "./f2-probe.js";

/** The kinds of hostile input, in the words. */
export const CASE_KINDS = [
  "bit flips",
  "truncation",
  "length 0",
  "length 1",
  "length max",
  "length max+1",
  "length 2^31",
  "length 2^32-1",
  "bad JSON",
  "bad UTF-8",
  "unknown command",
  "wrong type",
  "odd JSON",
  "data frame too large",
  "bad trailer",
] as const;

/** One of {@link CASE_KINDS}. */
export type CaseKind = (typeof CASE_KINDS)[number];

/** One generated conversation. */
export interface FuzzCase {
  readonly kind: CaseKind;
  readonly bytes: Buffer;
  /** Frames sent ahead of the hostile part that a correct server answers (HELLO). */
  readonly answeredAhead: number;
  /** Half-close after sending, or leave the connection open for the deadlines to act. */
  readonly end: boolean;
  /**
   * Frames a correct server must send in all: a non-fatal refusal leaves the connection in
   * step (PROTOCOL.md §5.2), so these cases end with a PWD that must be answered too.
   */
  readonly minFrames: number;
}

/** A small seeded generator (mulberry32): the same seed gives the same cases. */
export class Prng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.below(items.length)];
    if (item === undefined) throw new Error("Cannot pick from an empty list");
    return item;
  }

  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = this.below(256);
    return out;
  }
}

const HELLO = frameOf({ op: "HELLO", versions: [1] });

function crc32(data: Uint8Array): string {
  return zlib.crc32(data).toString(16).padStart(8, "0");
}

/** A PUT with its data phase, as a correct client sends it (PROTOCOL.md §7.3). */
function put(rng: Prng, trailer?: Buffer): Buffer {
  const data = rng.bytes(1 + rng.below(64));
  const end = trailer ?? frameOf({ ok: true, checksum: { alg: "crc32", value: crc32(data) } });
  return Buffer.concat([
    frameOf({ op: "PUT", path: `/up-${rng.below(50)}.bin`, overwrite: true }),
    header(data.length),
    data,
    header(0),
    end,
  ]);
}

/** A few valid requests after HELLO, for bit flips and cuts to damage. */
function validRun(rng: Prng): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0, n = 1 + rng.below(3); i < n; i++) {
    parts.push(
      rng.pick([
        () => frameOf({ op: "PWD" }),
        () => frameOf({ op: "STAT", path: "/small.txt" }),
        () => frameOf({ op: "GET", path: "/small.txt", tag: rng.below(1000) }),
        () => frameOf({ op: "LIST", path: "/" }),
        () => frameOf({ op: "CD", path: "/" }),
        () => frameOf({ op: "NOOP" }),
        () => put(rng),
      ])(),
    );
  }
  return Buffer.concat(parts);
}

const WRONG_TYPES: readonly object[] = [
  { op: 7 },
  { op: null },
  { op: ["PWD"] },
  { op: "GET", path: 5 },
  { op: "GET", path: "/small.txt", offset: "0" },
  { op: "GET", path: "/small.txt", offset: -1 },
  { op: "GET", path: "/small.txt", length: 1.5 },
  { op: "STAT", path: { a: 1 } },
  { op: "CD", path: null },
  { op: "MKDIR", path: "/d", parents: "yes" },
  { op: "RENAME", from: "/small.txt", to: 3 },
  { op: "HASH", path: "/small.txt", alg: "md5" },
  { op: "PWD", tag: { deep: true } },
  { op: "PWD", tag: "x".repeat(65) },
  { op: "NOOP", extra: 1 },
  { op: "HELLO", versions: "1" },
  { op: "HELLO", versions: [] },
  { op: "LOGIN", user: 42 },
];

const UNKNOWN: readonly object[] = [
  { op: "RETR", path: "/small.txt" },
  { op: "pwd" },
  { op: "" },
  { op: "PWD " },
  { op: "__proto__" },
  { op: "constructor" },
  { op: "toString" },
  { op: "X".repeat(4000) },
];

/** Valid JSON objects a parser may choke on: deep nesting, many keys, huge numbers, dup keys. */
const ODD_JSON: readonly string[] = [
  `{"op":"STAT","path":${"[".repeat(4000)}${"]".repeat(4000)}}`,
  `{"op":"NOOP","tag":${"[".repeat(4000)}${"]".repeat(4000)}}`,
  `{"op":"CD","path":${'{"a":'.repeat(1300)}1${"}".repeat(1300)}}`,
  `{"op":"NOOP",${Array.from({ length: 900 }, (_, i) => `"k${String(i)}":1`).join(",")}}`,
  '{"op":"GET","path":"/small.txt","offset":1e400}',
  '{"op":"GET","path":"/small.txt","length":-0}',
  '{"op":"NOOP","tag":1e300}',
  '{"op":"NOOP","op":"PWD"}',
  '{"op":"NOOP","__proto__":{"x":1}}',
  '{"op":"STAT","path":"/small.txt\\u0000"}',
  '{"op":"HELLO","versions":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}',
];

/** The hostile part of a case of `kind`. */
function hostile(kind: CaseKind, rng: Prng, maxControlFrame: number, maxChunk: number): Buffer {
  switch (kind) {
    case "bit flips": {
      const bytes = Buffer.from(validRun(rng));
      for (let i = 0, n = 1 + rng.below(3); i < n; i++) {
        const at = rng.below(bytes.length);
        bytes[at] = (bytes[at] ?? 0) ^ (1 << rng.below(8));
      }
      return bytes;
    }
    case "truncation": {
      const bytes = validRun(rng);
      return bytes.subarray(0, rng.below(bytes.length));
    }
    case "length 0":
      return header(0);
    case "length 1":
      return Buffer.concat([header(1), rng.bytes(1)]);
    case "length max": {
      // Exactly the limit: a valid request padded with spaces, or noise of that size.
      const body = Buffer.alloc(maxControlFrame, 0x20);
      if (rng.below(2) === 0) body.write('{"op":"NOOP"}');
      else rng.bytes(maxControlFrame).copy(body);
      return frameOf(body);
    }
    case "length max+1":
      return Buffer.concat([header(maxControlFrame + 1), rng.bytes(rng.below(64))]);
    case "length 2^31":
      return Buffer.concat([header(2 ** 31), rng.bytes(rng.below(64))]);
    case "length 2^32-1":
      return Buffer.concat([header(2 ** 32 - 1), rng.bytes(rng.below(64))]);
    case "bad JSON":
      return frameOf(
        rng.pick(['{"op":"PWD"', "{op:PWD}", "[]", "null", '"PWD"', "{}}", "", "1e999", "{\0}"]),
      );
    case "bad UTF-8": {
      const bad = rng.pick([[0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xff, 0xfe], [0xe2, 0x82]]);
      return frameOf(
        Buffer.concat([Buffer.from('{"op":"STAT","path":"/'), Buffer.from(bad), Buffer.from('"}')]),
      );
    }
    case "unknown command":
      return frameOf(rng.pick(UNKNOWN));
    case "wrong type": {
      // A refused PUT's data phase still follows it (PROTOCOL.md §5.2).
      if (rng.below(4) === 0) {
        const data = rng.bytes(8);
        const sum = frameOf({ ok: true, checksum: { alg: "crc32", value: crc32(data) } });
        return Buffer.concat([
          frameOf({ op: "PUT", path: "/w.bin", size: "8" }),
          header(8),
          data,
          header(0),
          sum,
        ]);
      }
      return frameOf(rng.pick(WRONG_TYPES));
    }
    case "odd JSON":
      return frameOf(rng.pick(ODD_JSON));
    case "data frame too large":
      return Buffer.concat([
        frameOf({ op: "PUT", path: "/big.bin", overwrite: true }),
        header(rng.pick([maxChunk + 1, 2 ** 31, 2 ** 32 - 1])),
        rng.bytes(rng.below(64)),
      ]);
    case "bad trailer":
      return put(
        rng,
        rng.pick([
          frameOf("not json"),
          frameOf({ ok: "yes" }),
          frameOf({ ok: true, checksum: { alg: "md5", value: "x" } }),
          frameOf(Buffer.from([0xff, 0x7b, 0x7d])),
          Buffer.from("zzzzzzzz"),
        ]),
      );
  }
}

/** The `index`th case: kinds in turn, HELLO ahead of most, half of them half-closed. */
export function makeCase(
  index: number,
  rng: Prng,
  limits: { maxControlFrame: number; maxChunk: number },
): FuzzCase {
  const kind = CASE_KINDS[index % CASE_KINDS.length] ?? "bit flips";
  const withHello = rng.below(5) !== 0;
  const inStep = kind === "unknown command" || kind === "wrong type" || kind === "odd JSON";
  const body = hostile(kind, rng, limits.maxControlFrame, limits.maxChunk);
  const ahead = withHello ? 1 : 0;
  return {
    kind,
    bytes: Buffer.concat([
      withHello ? HELLO : Buffer.alloc(0),
      body,
      inStep ? frameOf({ op: "PWD" }) : Buffer.alloc(0),
    ]),
    answeredAhead: ahead,
    end: rng.below(2) === 0,
    minFrames: inStep ? ahead + 2 : 0,
  };
}
