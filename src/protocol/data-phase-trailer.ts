import * as z from "zod";
import { BftpError, RemoteError } from "../errors.js";
import { decodeUtf8 } from "../wire/decode-utf8.js";
import type { Checksum } from "./checksum.js";
import type { DataPhaseResult } from "./data-phase-reader.js";
import { remoteError, type WireError } from "./replies.js";
import { CHECKSUM_ALGORITHMS } from "./version.js";

const trailerSchema = z.union([
  z.looseObject({
    ok: z.literal(true),
    checksum: z.object({ alg: z.enum(CHECKSUM_ALGORITHMS), value: z.string().max(128) }),
  }),
  z.looseObject({
    ok: z.literal(false),
    error: z.object({
      code: z.string().max(128),
      status: z.number().int(),
      message: z.string().max(4096),
    }),
  }),
]);

/**
 * The outcome of a data phase whose trailer frame's payload is `payload`, `sum` having taken
 * the phase's `bytes`: the sender's abort, a checksum mismatch, or verified (no failure).
 * Throws `BFTP_ERR_PROTOCOL` for a malformed trailer.
 */
export function judgeTrailer(payload: Buffer, sum: Checksum, bytes: number): DataPhaseResult {
  let parsed;
  try {
    parsed = trailerSchema.safeParse(JSON.parse(decodeUtf8(payload)));
  } catch (err) {
    throw new BftpError(
      "BFTP_ERR_PROTOCOL",
      "Cannot read the transfer's trailer: it is not UTF-8 JSON",
      { cause: err },
    );
  }
  if (!parsed.success)
    throw new BftpError("BFTP_ERR_PROTOCOL", "Cannot read the transfer's trailer: malformed");
  const checksum = sum.digest();
  const trailer = parsed.data;
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
