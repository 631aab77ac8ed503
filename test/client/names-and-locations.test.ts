import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { parseLocation } from "../../src/client/location.js";
import { escapeControls, localName } from "../../src/client/safe-name.js";
import { throwsWithCode } from "../helpers/assert-code.js";

test("localName refuses every name that could leave the target folder", () => {
  for (const bad of [
    "",
    ".",
    "..",
    "../x",
    "a/b",
    "/etc/passwd",
    "a\\b",
    "C:evil",
    "x\0y",
    "a\nb",
    "\u001b[2J",
    "\u009b",
  ]) {
    throwsWithCode(() => localName(bad), "BFTP_ERR_UNSAFE_NAME");
  }
  for (const good of ["report.pdf", "...", ".hidden", "naïve ✓.txt", "a b"])
    assert.equal(localName(good), good);
});

test("property: a name localName accepts never contains a separator or a control character", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 20 }), (name) => {
      try {
        localName(name);
      } catch {
        return;
      }
      // eslint-disable-next-line no-control-regex
      assert.ok(!/[/\\\u0000-\u001f\u007f-\u009f]/u.test(name) && name !== "." && name !== "..");
    }),
  );
});

test("escapeControls leaves no control character in its output", () => {
  assert.equal(escapeControls("a\u001b[31mb\r\n\u0000"), "a\\x1b[31mb\\r\\n\\x00");
  fc.assert(
    fc.property(fc.string(), (text) => {
      // eslint-disable-next-line no-control-regex
      assert.ok(!/[\u0000-\u001f\u007f-\u009f]/u.test(escapeControls(text)));
    }),
  );
});

test("parseLocation reads bftp URLs, with defaults, users, IPv6 and escapes", () => {
  assert.deepEqual(parseLocation("bftp://files.local"), {
    host: "files.local",
    port: 9921,
    tls: false,
    user: undefined,
    path: "/",
  });
  assert.deepEqual(parseLocation("bftp://alice@h:9000/a%20b/c"), {
    host: "h",
    port: 9000,
    tls: false,
    user: "alice",
    path: "/a b/c",
  });
  assert.deepEqual(parseLocation("bftp://[::1]:9921/x"), {
    host: "::1",
    port: 9921,
    tls: false,
    user: undefined,
    path: "/x",
  });
  // Issue 7: bftps:// selects TLS, on port 9922 unless one is given.
  assert.deepEqual(parseLocation("bftps://files.local/docs"), {
    host: "files.local",
    port: 9922,
    tls: true,
    user: undefined,
    path: "/docs",
  });
  assert.equal(parseLocation("bftps://[::1]:9000/").port, 9000);
  for (const bad of [
    "http://h/x",
    "bftp://",
    "bftps://",
    "ftps://h/x",
    "not a url",
    "bftp://u:secret@h/x",
    "bftp://h/%zz",
  ]) {
    throwsWithCode(() => parseLocation(bad), "BFTP_ERR_INVALID_ARGUMENT");
  }
});
