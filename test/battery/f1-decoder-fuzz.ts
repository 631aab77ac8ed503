/**
 * F1 (issue 6): in-process fuzz of the frame and message decoders. Every input must end as a
 * message, need-more-bytes, or a coded BftpError; anything else (a plain exception, an
 * unexpected code, an uncaught exception, two decoders that disagree) fails the check.
 * The seed is printed; `BFTP_FUZZ_SEED=<n>` replays a run.
 */
import { PassThrough } from "node:stream";
import fc from "fast-check";
import { isBftpError, type ErrorCode } from "../../src/errors.js";
import { DataPhaseReader } from "../../src/protocol/data-phase-reader.js";
import { parseRequest } from "../../src/protocol/requests.js";
import { HEX_SIZE_HEADER, StreamReader, decodeFrames } from "../../src/wire/index.js";
import type { BatterySize, Check, CheckResult } from "./check.js";
import { F1_MAX_SIZE, chunking, cut, dataPhase, frameStream, requestPayload } from "./f1-inputs.js";

/** How an input ended. */
type Outcome = "message" | "need-more" | "error";

/** Codes each decoder may end with; any other code is a finding. */
const FRAME_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  "BFTP_ERR_BAD_FRAME_HEADER",
  "BFTP_ERR_FRAME_TOO_LARGE",
]);
const PHASE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ...FRAME_CODES,
  "BFTP_ERR_PROTOCOL",
  "BFTP_ERR_UNEXPECTED_EOF",
]);

/** A finding: what was fed, and what went wrong. */
class Finding extends Error {}

function coded(err: unknown, allowed: ReadonlySet<ErrorCode>, what: string): ErrorCode {
  if (isBftpError(err) && allowed.has(err.code)) return err.code;
  throw new Finding(`${what} threw ${isBftpError(err) ? err.code : String(err)}`);
}

/** The pure decoder: frames, a remainder that needs more bytes, or a coded error. */
function decodeOnce(input: Buffer): { frames: Buffer[]; end: Outcome; code?: ErrorCode } {
  try {
    const { frames, rest } = decodeFrames(input, { maxSize: F1_MAX_SIZE });
    return { frames, end: rest.length > 0 ? "need-more" : "message" };
  } catch (err) {
    return { frames: [], end: "error", code: coded(err, FRAME_CODES, "decodeFrames") };
  }
}

/** Feeds `pieces` to a StreamReader and reads frames until the stream or a frame fails. */
async function readAll(pieces: readonly Buffer[]): Promise<{ frames: Buffer[]; code: ErrorCode }> {
  const source = new PassThrough();
  const reader = new StreamReader(source, { highWaterMark: 32 });
  for (const piece of pieces) source.write(piece);
  source.end();
  const frames: Buffer[] = [];
  for (let i = 0; i < 1000; i++) {
    try {
      frames.push(Buffer.from(await reader.readFrame({ maxSize: F1_MAX_SIZE, timeout: 2000 })));
    } catch (err) {
      const allowed = new Set<ErrorCode>([
        ...FRAME_CODES,
        "BFTP_ERR_PEER_CLOSED",
        "BFTP_ERR_UNEXPECTED_EOF",
      ]);
      return { frames, code: coded(err, allowed, "StreamReader.readFrame") };
    }
  }
  throw new Finding("StreamReader.readFrame did not reach the end of a short stream");
}

/** The reader over random chunks must agree with the pure decoder on the same bytes. */
async function readerAgrees(input: Buffer, cuts: readonly number[]): Promise<Outcome> {
  const { frames, code } = await readAll(cut(input, cuts));
  let expected: ErrorCode;
  let offset = 0;
  const want: Buffer[] = [];
  for (;;) {
    const rest = input.subarray(offset);
    if (rest.length === 0) {
      expected = "BFTP_ERR_PEER_CLOSED";
      break;
    }
    // The header alone first, so a bad header of a later frame cannot mask this one.
    const head = decodeOnce(rest.subarray(0, Math.min(rest.length, 8)));
    const size = head.end === "need-more" && rest.length >= 8 ? HEX_SIZE_HEADER.parse(rest, 0) : 0;
    const once = head.end === "error" ? head : decodeOnce(rest.subarray(0, 8 + size));
    if (once.end === "error") {
      expected = once.code ?? "BFTP_ERR_BAD_FRAME_HEADER";
      break;
    }
    const first = once.frames[0];
    if (first === undefined) {
      expected = "BFTP_ERR_UNEXPECTED_EOF";
      break;
    }
    want.push(first);
    offset += 8 + first.length;
  }
  const same =
    code === expected &&
    frames.length === want.length &&
    frames.every((f, i) => f.equals(want[i] ?? Buffer.alloc(0)));
  if (!same) {
    throw new Finding(
      `StreamReader gave ${frames.length} frames then ${code}; decodeFrames ${want.length} then ${expected}`,
    );
  }
  if (code === "BFTP_ERR_PEER_CLOSED") return "message";
  return code === "BFTP_ERR_UNEXPECTED_EOF" ? "need-more" : "error";
}

function parseOnce(payload: Buffer): Outcome {
  let parsed;
  try {
    parsed = parseRequest(payload);
  } catch (err) {
    throw new Finding(`parseRequest threw ${String(err)}`);
  }
  if (parsed.ok) return "message";
  // A refusal must be a coded error that can cross the wire (PROTOCOL.md §5.3).
  if (!isBftpError(parsed.error) || parsed.error.status === undefined) {
    throw new Finding(`parseRequest refused with ${String(parsed.error)}`);
  }
  return "error";
}

async function phaseOnce(input: Buffer, cuts: readonly number[]): Promise<Outcome> {
  const source = new PassThrough();
  const reader = new StreamReader(source, { highWaterMark: 32 });
  for (const piece of cut(input, cuts)) source.write(piece);
  source.end();
  const phase = new DataPhaseReader(reader, "crc32", {
    maxChunk: F1_MAX_SIZE,
    maxTrailer: F1_MAX_SIZE * 4,
    timeout: 2000,
  });
  try {
    const result = await phase.drain();
    if (result.failure !== undefined && !isBftpError(result.failure)) {
      throw new Finding(`DataPhaseReader failure is not coded: ${String(result.failure)}`);
    }
    return "message";
  } catch (err) {
    if (err instanceof Finding) throw err;
    return coded(err, PHASE_CODES, "DataPhaseReader") === "BFTP_ERR_UNEXPECTED_EOF"
      ? "need-more"
      : "error";
  }
}

/** What F1 keeps of a fast-check run. */
interface Verdict {
  readonly failed: boolean;
  readonly interrupted: boolean;
  readonly errorInstance?: unknown;
  readonly counterexample: unknown;
}

/** Every target stops after this long, whatever its count (a bounded loop). */
const LIMIT_S = 120;
const LIMIT = { interruptAfterTimeLimit: LIMIT_S * 1000, markInterruptAsFailure: false };

/** Inputs per target, full size (100,000 in all); push runs 2% of each. */
const FULL_RUNS = {
  decodeFrames: 30_000,
  readFrame: 25_000,
  parseRequest: 30_000,
  trailer: 15_000,
};

/** Runs F1 at `size`. */
export async function runF1(size: BatterySize): Promise<CheckResult> {
  const seed = Number(process.env["BFTP_FUZZ_SEED"] ?? Math.floor(Math.random() * 2 ** 31));
  const scale = size === "full" ? 1 : 0.02;
  const tally: Record<Outcome, number> = { message: 0, "need-more": 0, error: 0 };
  let uncaught = 0;
  const onUncaught = (): void => {
    uncaught++;
  };
  process.on("uncaughtException", onUncaught);
  process.on("unhandledRejection", onUncaught);
  const started = Date.now();
  const failures: string[] = [];
  let inputs = 0;
  const count = (outcome: Outcome): true => {
    tally[outcome]++;
    inputs++;
    return true;
  };
  const runs = (n: number): number => Math.max(1, Math.round(n * scale));
  try {
    const checks: [string, () => Promise<Verdict> | Verdict][] = [
      [
        "decodeFrames",
        () =>
          fc.check(
            fc.property(frameStream, (input) => count(decodeOnce(input).end)),
            { seed, numRuns: runs(FULL_RUNS.decodeFrames), ...LIMIT },
          ),
      ],
      [
        "readFrame",
        () =>
          fc.check(
            fc.asyncProperty(frameStream, chunking, async (input, cuts) =>
              count(await readerAgrees(input, cuts)),
            ),
            { seed: seed + 1, numRuns: runs(FULL_RUNS.readFrame), ...LIMIT },
          ),
      ],
      [
        "parseRequest",
        () =>
          fc.check(
            fc.property(requestPayload, (payload) => count(parseOnce(payload))),
            { seed: seed + 2, numRuns: runs(FULL_RUNS.parseRequest), ...LIMIT },
          ),
      ],
      [
        "trailer",
        () =>
          fc.check(
            fc.asyncProperty(dataPhase, chunking, async (input, cuts) =>
              count(await phaseOnce(input, cuts)),
            ),
            { seed: seed + 3, numRuns: runs(FULL_RUNS.trailer), ...LIMIT },
          ),
      ],
    ];
    for (const [name, run] of checks) {
      const details = await run();
      if (details.interrupted) failures.push(`${name}: stopped at the ${LIMIT_S} s limit`);
      if (details.failed) {
        const why = details.errorInstance instanceof Error ? details.errorInstance.message : "";
        failures.push(`${name}: ${why} on ${JSON.stringify(details.counterexample)}`);
      }
    }
  } finally {
    // Let stray rejections of the last inputs surface before counting them.
    await new Promise((resolve) => setTimeout(resolve, 50));
    process.off("uncaughtException", onUncaught);
    process.off("unhandledRejection", onUncaught);
  }
  const figure =
    `${inputs} inputs, seed ${seed}: ${tally.message} message, ${tally["need-more"]} need-more, ` +
    `${tally.error} coded error; ${uncaught} uncaught; ${((Date.now() - started) / 1000).toFixed(1)} s` +
    (failures.length > 0 ? `; ${failures.join("; ")}` : "");
  return { pass: failures.length === 0 && uncaught === 0, figure };
}

/** F1 as a battery check. */
export const F1: Check = {
  id: "F1",
  title: "decoder fuzz",
  run: runF1,
};
