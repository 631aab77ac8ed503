import assert from "node:assert/strict";
import { isBftpError, type ErrorCode } from "../../src/errors.js";

/** Asserts that `promise` rejects with a BftpError of `code`; returns the error for details. */
export async function rejectsWithCode(
  promise: Promise<unknown>,
  code: ErrorCode,
): Promise<Error & { details: Readonly<Record<string, unknown>> }> {
  let caught: unknown;
  await assert.rejects(promise, (err: unknown) => {
    caught = err;
    return true;
  });
  assert.ok(isBftpError(caught), `expected a BftpError, got ${String(caught)}`);
  assert.equal(caught.code, code);
  return caught;
}

/** Asserts that `fn` throws a BftpError of `code`. */
export function throwsWithCode(fn: () => unknown, code: ErrorCode): void {
  assert.throws(fn, (err: unknown) => isBftpError(err) && err.code === code);
}
