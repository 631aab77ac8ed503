// http-get's response-head parser, on its own: status lines, header fields, and the
// Content-Length rules that decide how much body to expect.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  contentLength,
  HttpGetError,
  parseResponseHead,
  type ResponseHead,
} from "../../examples/http-response-head.js";

const head = (text: string): ResponseHead => parseResponseHead(Buffer.from(text, "latin1"));

/** The code of what `fn` throws. */
function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof HttpGetError) return err.code;
    throw err;
  }
  assert.fail("expected an error");
}

describe("parseResponseHead", () => {
  test("reads the status line and the fields, names folded to lower case", () => {
    const parsed = head("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Thing:  a b  ");
    assert.equal(parsed.statusLine, "HTTP/1.1 200 OK");
    assert.equal(parsed.status, 200);
    assert.deepEqual(parsed.headers.get("content-type"), ["text/html"]);
    assert.deepEqual(parsed.headers.get("x-thing"), ["a b"], "surrounding spaces trimmed");
  });

  test("keeps every value of a repeated field, in order", () => {
    const parsed = head("HTTP/1.0 200 OK\r\nSet-Cookie: a=1\r\nset-cookie: b=2");
    assert.deepEqual(parsed.headers.get("set-cookie"), ["a=1", "b=2"]);
  });

  test("accepts a status line without a reason, and one with any reason", () => {
    assert.equal(head("HTTP/1.0 204").status, 204);
    assert.equal(head("HTTP/1.1 404 Not Found").status, 404);
    assert.equal(head("HTTP/1.1 500 Ünïcode reason").status, 500);
  });

  test("a head with no fields at all", () => {
    assert.equal(head("HTTP/1.0 200 OK").headers.size, 0);
  });

  for (const bad of [
    "",
    "HTTP/2 200 OK",
    "HTTP/1.1 20 OK",
    "HTTP/1.1 099 Too low",
    "http/1.1 200 OK",
    "SSH-2.0-OpenSSH_9.6",
    "HTTP/1.1 200 OK\r\nno colon here",
    "HTTP/1.1 200 OK\r\nBad Name: x",
    "HTTP/1.1 200 OK\r\n : empty name",
    "HTTP/1.1 200 OK\r\nCR\rinside: x",
  ]) {
    test(`refuses ${JSON.stringify(bad)} with HTTP_ERR_MALFORMED`, () => {
      assert.equal(
        codeOf(() => head(bad)),
        "HTTP_ERR_MALFORMED",
      );
    });
  }
});

describe("contentLength", () => {
  test("absent: undefined, the body ends when the server closes", () => {
    assert.equal(contentLength(head("HTTP/1.0 200 OK\r\nContent-Type: text/plain")), undefined);
  });

  test("a plain number, with the same value repeated or listed", () => {
    assert.equal(contentLength(head("HTTP/1.0 200 OK\r\nContent-Length: 42")), 42);
    assert.equal(contentLength(head("HTTP/1.0 200 OK\r\nContent-Length: 0")), 0);
    assert.equal(
      contentLength(head("HTTP/1.0 200 OK\r\nContent-Length: 7\r\nContent-Length: 7")),
      7,
    );
    assert.equal(contentLength(head("HTTP/1.0 200 OK\r\nContent-Length: 7, 7")), 7);
    assert.equal(contentLength(head("HTTP/1.0 200 OK\r\nContent-Length: 6000000000")), 6e9);
  });

  for (const bad of ["-1", "1e3", "0x10", "", "12abc", "1, 2", "99999999999999999999"]) {
    test(`refuses Content-Length ${JSON.stringify(bad)}`, () => {
      const parsed = head(`HTTP/1.0 200 OK\r\nContent-Length: ${bad}`);
      assert.equal(
        codeOf(() => contentLength(parsed)),
        "HTTP_ERR_MALFORMED",
      );
    });
  }

  test("refuses two different Content-Length fields (a smuggling sign)", () => {
    const parsed = head("HTTP/1.0 200 OK\r\nContent-Length: 5\r\nContent-Length: 6");
    assert.equal(
      codeOf(() => contentLength(parsed)),
      "HTTP_ERR_MALFORMED",
    );
  });
});
