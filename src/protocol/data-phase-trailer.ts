import { BftpError, RemoteError } from "../errors.js";
import { decodeUtf8 } from "../wire/decode-utf8.js";
import type { Checksum } from "./checksum.js";
import type { DataPhaseResult } from "./data-phase-reader.js";
import { remoteError, wireError, type WireError } from "./replies.js";
import { either, object, oneOf, string } from "./shape.js";
import { CHECKSUM_ALGORITHMS } from "./version.js";

const trailerShape = either(
  object({
    ok: oneOf([true]),
    checksum: object({ alg: oneOf(CHECKSUM_ALGORITHMS), value: string(128) }),
  }),
  object({ ok: oneOf([false]), error: wireError }),
);

/**
 * The outcome of a data phase whose trailer frame's payload is `payload`, `sum` having taken
 * the phase's `bytes`: the sender's abort, a checksum mismatch, or verified (no failure).
 * Throws `BFTP_ERR_PROTOCOL` for a malformed trailer.
 */
export function judgeTrailer(payload: Buffer, sum: Checksum, bytes: number): DataPhaseResult {
  let trailer: unknown;
  try {
    trailer = JSON.parse(decodeUtf8(payload));
  } catch (err) {
    throw new BftpError(
      "BFTP_ERR_PROTOCOL",
      "Cannot read the transfer's trailer: it is not UTF-8 JSON",
      { cause: err },
    );
  }
  if (!trailerShape(trailer))
    throw new BftpError("BFTP_ERR_PROTOCOL", "Cannot read the transfer's trailer: malformed");
  const checksum = sum.digest();
  let failure: BftpError | undefined;
  if (!trailer.ok) {
    failure = aborted(trailer.error);
  } else if (
    trailer.checksum.alg !== sum.alg ||
    trailer.checksum.value.toLowerCase() !== checksum
  ) {
    failure = new BftpError(
      "BFTP_ERR_CHECKSUM_MISMATCH",
      `Cannot accept the data: the sender's ${trailer.checksum.alg} is ${trailer.checksum.value}, the bytes received give ${checksum}`,
      {
        details: { expected: trailer.checksum.value, actual: checksum, alg: sum.alg },
        connectionUsable: true, // the phase was read to its end
      },
    );
  }
  return { bytes, checksum, failure };
}

/**
 * The sender's abort as a {@link RemoteError} (the peer said no; the stream is in step): its
 * own code when known, else TRANSFER_ABORTED.
 */
function aborted(error: WireError): RemoteError {
  const remote = remoteError(error);
  return remote.code === "BFTP_ERR_INTERNAL" && error.code !== "BFTP_ERR_INTERNAL"
    ? new RemoteError("BFTP_ERR_TRANSFER_ABORTED", error.message, { details: remote.details })
    : remote;
}
