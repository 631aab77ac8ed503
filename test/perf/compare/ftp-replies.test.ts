import assert from "node:assert/strict";
import { test } from "node:test";
import {
  MAX_REPLY_LINE,
  parseEpsv,
  parsePasv,
  parseReplies,
  type FtpReply,
} from "../../../perf/compare/ftp-replies.js";

const STREAM =
  "220-Welcome\r\n 220 inside text does not end it\r\n220-nor does this\r\n220 ready\r\n" +
  "331 Please specify the password.\r\n230 Login successful.\r\n" +
  "229 Entering Extended Passive Mode (|||21007|)\n"; // a bare LF ends a line too
const EXPECTED: FtpReply[] = [
  { code: 220, text: "Welcome\n 220 inside text does not end it\nnor does this\nready" },
  { code: 331, text: "Please specify the password." },
  { code: 230, text: "Login successful." },
  { code: 229, text: "Entering Extended Passive Mode (|||21007|)" },
];

/** Feeds `bytes` in pieces as a socket would, carrying the rest across calls. */
function feed(bytes: Buffer, cuts: readonly number[]): FtpReply[] {
  const out: FtpReply[] = [];
  let pending: Buffer = Buffer.alloc(0);
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    pending = Buffer.concat([pending, bytes.subarray(at, cut)]);
    at = cut;
    const { replies, rest } = parseReplies(pending);
    out.push(...replies);
    pending = rest;
  }
  assert.equal(pending.length, 0, "nothing left over");
  return out;
}

test("parses a stream of replies whole", () => {
  assert.deepEqual(feed(Buffer.from(STREAM), []), EXPECTED);
});

test("parses the same stream byte by byte", () => {
  const bytes = Buffer.from(STREAM);
  assert.deepEqual(
    feed(
      bytes,
      Array.from({ length: bytes.length - 1 }, (_, i) => i + 1),
    ),
    EXPECTED,
  );
});

test("parses the same stream split at every point", () => {
  const bytes = Buffer.from(STREAM);
  for (let cut = 1; cut < bytes.length; cut++) assert.deepEqual(feed(bytes, [cut]), EXPECTED);
});

test("a partial reply stays pending until its last line arrives", () => {
  const { replies, rest } = parseReplies(Buffer.from("150-one\r\n150 two"));
  assert.deepEqual(replies, []);
  assert.equal(rest.toString(), "150-one\r\n150 two");
});

test("a line over the limit is refused before it is complete", () => {
  assert.throws(() => parseReplies(Buffer.alloc(MAX_REPLY_LINE + 1, 0x41)));
  assert.throws(() => parseReplies(Buffer.from(`220 ${"x".repeat(MAX_REPLY_LINE)}\r\n`)));
});

test("a line that is not a reply is refused", () => {
  assert.throws(() => parseReplies(Buffer.from("hello\r\n")));
});

test("EPSV and PASV replies give the data port", () => {
  assert.equal(parseEpsv({ code: 229, text: "Entering Extended Passive Mode (|||21007|)" }), 21007);
  assert.equal(parseEpsv({ code: 229, text: "ok (!!!65535!)" }), 65535);
  assert.deepEqual(parsePasv({ code: 227, text: "Entering Passive Mode (127,0,0,1,82,15)." }), {
    host: "127.0.0.1",
    port: 82 * 256 + 15,
  });
  assert.throws(() => parseEpsv({ code: 229, text: "no port here" }));
  assert.throws(() => parseEpsv({ code: 500, text: "(|||21|)" }));
  assert.throws(() => parsePasv({ code: 227, text: "(127,0,0,1,300,1)" }));
});
