import { BftpError } from "../errors.js";

/** How long an operation may wait: a cancellation signal, a deadline, or both. */
export interface WaitOptions {
  /** Cancels the wait with `BFTP_ERR_ABORTED`. */
  readonly signal?: AbortSignal;
  /** Milliseconds before the wait fails with `BFTP_ERR_TIMEOUT`; no deadline when absent. */
  readonly timeout?: number;
}

/**
 * Arms the signal and the deadline of `options` for one wait, calling `fail` at most once
 * with the coded error. Returns the disarm function, which the caller must call when the
 * wait ends either way. Returns the error at once, without arming, when the signal has
 * already fired.
 *
 * @example
 * const disarm = armDeadline({ timeout: 5000 }, "read a frame", reject);
 * if (disarm instanceof BftpError) return reject(disarm);
 * // ... later, when the wait ends: disarm();
 */
export function armDeadline(
  options: WaitOptions,
  what: string,
  fail: (err: BftpError) => void,
): (() => void) | BftpError {
  const { signal, timeout } = options;
  if (signal?.aborted) return abortedError(what, signal);
  if (timeout !== undefined && !(Number.isFinite(timeout) && timeout >= 0)) {
    return new BftpError("BFTP_ERR_INVALID_ARGUMENT", `Cannot use timeout "${timeout}"`);
  }
  let timer: NodeJS.Timeout | undefined;
  const onAbort = (): void => {
    disarm();
    fail(abortedError(what, signal));
  };
  const disarm = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  };
  if (timeout !== undefined) {
    timer = setTimeout(() => {
      disarm();
      fail(
        new BftpError("BFTP_ERR_TIMEOUT", `Cannot ${what}: no progress within ${timeout} ms`, {
          details: { timeout },
        }),
      );
    }, timeout);
  }
  signal?.addEventListener("abort", onAbort, { once: true });
  return disarm;
}

function abortedError(what: string, signal: AbortSignal | undefined): BftpError {
  return new BftpError("BFTP_ERR_ABORTED", `Cannot ${what}: the operation was aborted`, {
    cause: signal?.reason,
  });
}
