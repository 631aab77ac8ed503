import assert from "node:assert/strict";
import { ERROR_CODES, type ErrorCode } from "../../src/errors.js";
import type { Body } from "./protocol-connection.js";

/**
 * Asserts that a reply or trailer is an error of `code`, with the status PROTOCOL.md §5.3
 * gives that code. Never looks at the message (STYLE.md: tests assert codes).
 */
export function assertError(body: Body, code: ErrorCode): void {
  const shown = JSON.stringify(body);
  assert.equal(body.ok, false, shown);
  assert.equal(body.error?.code, code, shown);
  const status: number | undefined = (ERROR_CODES[code] as { status?: number }).status;
  assert.equal(body.error.status, status, shown);
}

/** Asserts that a reply or trailer is `ok: true`, showing the body when it is not. */
export function assertOk(body: Body): void {
  assert.equal(body.ok, true, JSON.stringify(body));
}
