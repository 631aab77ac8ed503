/**
 * F1's inputs (issue 6): fast-check arbitraries for byte streams that are almost frames,
 * request payloads that are almost requests, and data phases that are almost data phases.
 * Mostly-valid inputs reach deeper states than uniform noise; the mutations (a flipped bit,
 * a cut) carry them past every edge.
 */
import zlib from "node:zlib";
import fc from "fast-check";
import { HEX_SIZE_HEADER } from "../../src/wire/index.js";
import { REQUESTS } from "../../src/protocol/requests.js";

/** The limit F1 decodes with: small, so "over the limit" is easy to reach. */
export const F1_MAX_SIZE = 64;

const hex8 = (n: number): Buffer => Buffer.from(n.toString(16).padStart(8, "0"), "latin1");

/** Headers at and around every edge PROTOCOL.md §2 and §11 name. */
const EDGE_HEADERS = [0, 1, F1_MAX_SIZE, F1_MAX_SIZE + 1, 2 ** 31, 2 ** 32 - 1].map(hex8);

/** One frame: a true header, an edge header, an uppercase one, or 8 random bytes. */
const frame: fc.Arbitrary<Buffer> = fc
  .tuple(
    fc.uint8Array({ maxLength: F1_MAX_SIZE + 8 }),
    fc.oneof(
      { weight: 6, arbitrary: fc.constant("true") },
      { weight: 2, arbitrary: fc.constantFrom(...EDGE_HEADERS) },
      { weight: 1, arbitrary: fc.constant("upper") },
      { weight: 1, arbitrary: fc.uint8Array({ minLength: 8, maxLength: 8 }) },
    ),
  )
  .map(([payload, header]) => {
    const head =
      header === "true"
        ? HEX_SIZE_HEADER.encode(payload.length)
        : header === "upper"
          ? Buffer.from(payload.length.toString(16).toUpperCase().padStart(8, "0"), "latin1")
          : Buffer.from(header);
    return Buffer.concat([head, payload]);
  });

/** Flips one bit, cuts the tail, or leaves the bytes alone. */
function mutate(bytes: Buffer): fc.Arbitrary<Buffer> {
  if (bytes.length === 0) return fc.constant(bytes);
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant(bytes) },
    {
      weight: 2,
      arbitrary: fc.tuple(fc.nat(bytes.length - 1), fc.nat(7)).map(([at, bit]) => {
        const copy = Buffer.from(bytes);
        copy[at] = (copy[at] ?? 0) ^ (1 << bit);
        return copy;
      }),
    },
    { weight: 2, arbitrary: fc.nat(bytes.length).map((n) => bytes.subarray(0, n)) },
  );
}

/** A byte stream of frames: random noise, or a few frames, possibly damaged. */
export const frameStream: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 96 }).map((b) => Buffer.from(b)) },
  {
    weight: 4,
    arbitrary: fc
      .array(frame, { maxLength: 4 })
      .map((frames) => Buffer.concat(frames))
      .chain(mutate),
  },
);

/** How a stream is cut into chunks: sizes, cycled until the input is used up. */
export const chunking: fc.Arbitrary<number[]> = fc.array(fc.integer({ min: 1, max: 40 }), {
  minLength: 1,
  maxLength: 8,
});

/** Splits `bytes` at the sizes of `cuts`, cycling them. */
export function cut(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const pieces: Buffer[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const size = cuts[i % cuts.length] ?? 1;
    pieces.push(bytes.subarray(at, at + size));
    at += size;
  }
  return pieces;
}

const OPS = Object.keys(REQUESTS);
const FIELDS = [
  "op",
  "tag",
  "path",
  "from",
  "to",
  "offset",
  "length",
  "size",
  "overwrite",
  "resumable",
  "checksum",
  "mtime",
  "parents",
  "alg",
  "versions",
  "client",
  "user",
  "password",
  "__proto__",
  "constructor",
];

/** Values of every JSON type, and the numbers at the edges of "integer". */
const fieldValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(-1, 0.5, 2 ** 53, 2 ** 53 - 1, 1e308, -0, "crc32", "sha256", "/", "../x"),
  fc.array(fc.integer(), { maxLength: 20 }),
  fc.string({ maxLength: 80 }),
);

/** A request object: a real op or a near miss, real field names or random ones. */
const requestObject: fc.Arbitrary<Record<string, unknown>> = fc
  .tuple(
    fc.oneof(fc.constantFrom(...OPS), fc.string({ maxLength: 8 }), fieldValue),
    fc.dictionary(fc.oneof(fc.constantFrom(...FIELDS), fc.string({ maxLength: 6 })), fieldValue, {
      maxKeys: 4,
    }),
  )
  .map(([op, fields]) => ({ op, ...fields }));

/** Invalid UTF-8: lone continuation bytes, overlongs, surrogates, a cut sequence. */
const badUtf8 = fc.constantFrom(
  Buffer.from([0x80]),
  Buffer.from([0xc0, 0xaf]),
  Buffer.from([0xed, 0xa0, 0x80]),
  Buffer.from([0xf4, 0x90, 0x80, 0x80]),
  Buffer.from([0xe2, 0x82]),
  Buffer.from([0xef, 0xbb, 0xbf]), // a byte-order mark
  Buffer.from([0xff]),
);

/** A request frame's payload: JSON of a request, other JSON, noise, or damaged JSON. */
export const requestPayload: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 5, arbitrary: requestObject.map((o) => Buffer.from(JSON.stringify(o))) },
  { weight: 1, arbitrary: fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v))) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)) },
  {
    weight: 2,
    arbitrary: fc.tuple(requestObject, badUtf8, fc.nat()).map(([o, bad, n]) => {
      const json = Buffer.from(JSON.stringify(o));
      const at = n % (json.length + 1);
      return Buffer.concat([json.subarray(0, at), bad, json.subarray(at)]);
    }),
  },
  { weight: 2, arbitrary: requestObject.chain((o) => mutate(Buffer.from(JSON.stringify(o)))) },
);

/** A trailer (PROTOCOL.md §7.1): right, wrong checksum, error, near miss, or noise. */
function trailer(crc: string): fc.Arbitrary<Buffer> {
  const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
  return fc.oneof(
    fc.constant(json({ ok: true, checksum: { alg: "crc32", value: crc } })),
    fc.constant(json({ ok: true, checksum: { alg: "crc32", value: "00000000" } })),
    fc.constant(json({ ok: true, checksum: { alg: "sha256", value: crc } })),
    fc.constant(
      json({ ok: false, error: { code: "BFTP_ERR_TRANSFER_ABORTED", status: 422, message: "x" } }),
    ),
    fc
      .tuple(fc.string({ maxLength: 40 }), fc.oneof(fc.integer(), fc.double()), fieldValue)
      .map(([code, status, message]) => json({ ok: false, error: { code, status, message } })),
    requestObject.map(json),
    requestPayload,
  );
}

/** A data phase: data frames, the terminator, a trailer; the whole possibly damaged. */
export const dataPhase: fc.Arbitrary<Buffer> = fc
  .array(fc.uint8Array({ minLength: 1, maxLength: F1_MAX_SIZE + 4 }), { maxLength: 3 })
  .chain((chunks) => {
    const data = Buffer.concat(chunks);
    const crc = crc32Hex(data);
    return trailer(crc).map((t) =>
      Buffer.concat([
        ...chunks.flatMap((c) => [HEX_SIZE_HEADER.encode(c.length), Buffer.from(c)]),
        HEX_SIZE_HEADER.encode(0),
        HEX_SIZE_HEADER.encode(t.length),
        t,
      ]),
    );
  })
  .chain(mutate);

function crc32Hex(data: Uint8Array): string {
  return zlib.crc32(data).toString(16).padStart(8, "0");
}
