// The hand-written shape checks that replaced zod on the client's path (src/protocol/shape.ts):
// each combinator accepts what zod's counterpart accepted and refuses what it refused, and
// the checks built from them (replies, trailers, tree records, the client's config file)
// refuse the malformed bodies a hostile or broken peer could send.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseClientConfig } from "../../src/cli/client-config.js";
import { getReply, helloShape, hashReply, loginReply } from "../../src/client/reply-shapes.js";
import { parseReply } from "../../src/protocol/replies.js";
import {
  array,
  boolean,
  either,
  integer,
  object,
  oneOf,
  optional,
  refine,
  strictObject,
  string,
  u64,
} from "../../src/protocol/shape.js";
import { haveEntry, isRecordPath, RECORD_SHAPES } from "../../src/protocol/tree-records.js";
import { throwsWithCode } from "../helpers/assert-code.js";

test("string: type, length bounds and pattern", () => {
  const s = string(3, { min: 1, pattern: /^[a-z]*$/ });
  assert.ok(s("abc"));
  assert.ok(!s(""), "below min");
  assert.ok(!s("abcd"), "above max");
  assert.ok(!s("aB"), "pattern");
  for (const v of [1, null, undefined, ["a"], { a: 1 }, true]) assert.ok(!s(v), JSON.stringify(v));
});

test("integer and u64: safe integers within bounds only", () => {
  const port = integer(1, 65535);
  assert.ok(port(1) && port(65535));
  for (const v of [0, 65536, 1.5, Number.NaN, Infinity, "80", null]) assert.ok(!port(v), String(v));
  assert.ok(u64(0) && u64(Number.MAX_SAFE_INTEGER));
  for (const v of [-1, 2 ** 53, 1e300, -0.5]) assert.ok(!u64(v), String(v));
  assert.ok(integer()(-5));
});

test("boolean, oneOf, optional", () => {
  assert.ok(boolean(true) && boolean(false) && !boolean(0) && !boolean("true"));
  const kind = oneOf(["file", "dir"]);
  assert.ok(kind("file") && !kind("File") && !kind(undefined));
  assert.ok(oneOf([true])(true) && !oneOf([true])(false) && !oneOf([true])("true"));
  const maybe = optional(u64);
  assert.ok(maybe(undefined) && maybe(3) && !maybe(null) && !maybe(-1));
});

test("array: every item checked, length bounded", () => {
  const a = array(u64, 3);
  assert.ok(a([]) && a([1, 2, 3]));
  assert.ok(!a([1, 2, 3, 4]), "too many");
  assert.ok(!a([1, -2]), "a bad item");
  assert.ok(!a({ length: 0 }), "not an array");
});

test("object keeps unknown keys; strictObject refuses them; missing required keys refused", () => {
  const fields = { path: string(10), size: u64, mtime: optional(u64) };
  const loose = object(fields);
  const strict = strictObject(fields);
  assert.ok(loose({ path: "a", size: 1 }));
  assert.ok(loose({ path: "a", size: 1, extra: "kept" }));
  assert.ok(strict({ path: "a", size: 1, mtime: 2 }));
  assert.ok(!strict({ path: "a", size: 1, extra: 1 }));
  assert.ok(!loose({ path: "a" }), "size missing");
  assert.ok(!loose({ path: "a", size: 1, mtime: "x" }), "optional key present and wrong");
  for (const v of [null, [], "x", 5]) assert.ok(!loose(v), JSON.stringify(v));
  // An inherited key is not the object's own: a prototype cannot supply a field.
  const proto = Object.create({ size: 1 }) as Record<string, unknown>;
  proto["path"] = "a";
  assert.ok(!loose(proto));
  // A field named like one of Object.prototype's keys is read as the object's own too.
  const named = object({ constructor: string(10), toString: optional(string(10)) });
  assert.ok(!named({}), "constructor comes from the prototype, not the object");
  assert.ok(named({ constructor: "own" }));
  assert.ok(named(JSON.parse('{"constructor":"own","toString":"x"}')));
  assert.ok(!named(JSON.parse('{"constructor":"own","toString":1}')));
  assert.ok(!object({ path: string(10) })(Object.assign(Object.create(null), { size: 1 })));
  assert.ok(object({ path: string(10) })(Object.assign(Object.create(null), { path: "a" })));
});

test("either and refine", () => {
  const e = either(object({ ok: oneOf([true]) }), object({ ok: oneOf([false]), why: string(9) }));
  assert.ok(e({ ok: true }) && e({ ok: false, why: "x" }));
  assert.ok(!e({ ok: false }) && !e({ ok: "true" }));
  const even = refine(u64, (n) => n % 2 === 0);
  assert.ok(even(4) && !even(3) && !even(-2));
});

test("replies: ok bodies pass, error replies become RemoteError, anything else is PROTOCOL", () => {
  const body = (v: unknown) => Buffer.from(JSON.stringify(v));
  assert.deepEqual(parseReply(body({ ok: true, path: "/" })), { ok: true, path: "/" });
  throwsWithCode(
    () =>
      parseReply(
        body({ ok: false, error: { code: "BFTP_ERR_NOT_FOUND", status: 404, message: "" } }),
      ),
    "BFTP_ERR_NOT_FOUND",
  );
  for (const bad of [
    { ok: "yes" },
    {},
    [],
    { ok: false },
    { ok: false, error: { code: "X", status: "404", message: "" } },
    { ok: false, error: { code: "X", status: 404, message: "" }, close: "yes" },
  ]) {
    throwsWithCode(() => parseReply(body(bad)), "BFTP_ERR_PROTOCOL");
  }
});

test("reply shapes of the client: the fields it relies on, typed", () => {
  assert.ok(getReply({ size: 5, mtime: 1, offset: 0, length: 5, version: "v1", more: 1 }));
  assert.ok(!getReply({ size: 5, mtime: 1, offset: 0 }), "length missing");
  assert.ok(!getReply({ size: 5, mtime: 1, offset: 0, length: -1 }));
  assert.ok(hashReply({ alg: "sha256", value: "a".repeat(64), offset: 0, length: 1 }));
  assert.ok(!hashReply({ alg: "sha256", value: "A".repeat(64), offset: 0, length: 1 }));
  assert.ok(loginReply({ user: "ann" }) && loginReply({ challenge: "c" }) && !loginReply({}));
  const hello = {
    version: 1,
    server: "bftp",
    limits: { maxChunk: 1, maxControlFrame: 2 },
    checksums: ["crc32"],
  };
  assert.ok(helloShape(hello));
  assert.ok(helloShape({ ...hello, auth: { required: true, methods: ["password"] } }));
  assert.ok(!helloShape({ ...hello, auth: { required: "yes", methods: [] } }));
  assert.ok(!helloShape({ ...hello, checksums: Array.from({ length: 17 }, () => "x") }));
});

test("tree records and have entries", () => {
  assert.ok(RECORD_SHAPES.head({ path: "a/b", size: 1, mtime: 2 }));
  assert.ok(!RECORD_SHAPES.head({ path: "", size: 1, mtime: 2 }), "empty path");
  assert.ok(RECORD_SHAPES.end({ ok: true, checksum: "abc" }));
  assert.ok(!RECORD_SHAPES.end({ ok: false }));
  assert.ok(RECORD_SHAPES.skip({ path: "l", type: "symlink" }));
  assert.ok(haveEntry({ path: "a/b", size: 3 }));
  assert.ok(!haveEntry({ path: "../a", size: 3 }), "a path leading out");
  assert.ok(!haveEntry({ path: "a", size: 3, extra: 1 }), "strict");
  assert.ok(!isRecordPath("a//b"));
});

test("the client's config file: known keys, right types, no password", () => {
  const file = "/config.toml";
  assert.deepEqual(
    parseClientConfig(`[remotes.home]\nhost = "h"\nport = 2121\ntls = true\npath = "/p"\n`, file),
    { home: { host: "h", port: 2121, tls: true, path: "/p" } },
  );
  assert.deepEqual(parseClientConfig("", file), {});
  for (const bad of [
    `[remotes.home]\nport = 21\n`, // no host
    `[remotes.home]\nhost = "h"\nport = 0\n`,
    `[remotes.home]\nhost = "h"\nport = "21"\n`,
    `[remotes.home]\nhost = "h"\npath = "rel"\n`,
    `[remotes.home]\nhost = "h"\ncolour = "red"\n`,
    `[remotes.home]\nhost = "h"\npassword = "x"\n`,
    `password = "x"\n`,
    `other = 1\n`,
    `remotes = 5\n`,
    `[remotes."bad/name"]\nhost = "h"\n`,
  ]) {
    throwsWithCode(() => parseClientConfig(bad, file), "BFTP_ERR_LOCAL_FILE");
  }
});
