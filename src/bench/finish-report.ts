import type { BenchFailure, BenchReport, ServerMemory, SizeResult } from "./bench-report.js";
import type { RssSampler } from "./rss-sampler.js";
import type { ServerLocation } from "./server-rss.js";

/** What a finished run knows besides its results. */
export interface RunEnd {
  readonly parameters: BenchReport["parameters"];
  readonly server: BenchReport["server"];
  readonly startedAt: string;
  readonly ms: number;
  readonly cleanup: BenchReport["cleanup"];
  readonly where: ServerLocation;
  readonly sampler: RssSampler | undefined;
  readonly marks: readonly { t: number; label: string }[];
}

/**
 * The report of a run that went to its end: totals, the server's memory, and the run's
 * verdict (see {@link firstError}).
 */
export function finishReport(
  results: readonly SizeResult[],
  failures: readonly BenchFailure[],
  end: RunEnd,
): BenchReport {
  const bytesVerified = results.reduce((a, r) => a + r.bytesVerified, 0);
  const cpuSeconds = results.reduce((a, r) => a + r.cpuSeconds, 0);
  const error = firstError(failures);
  return {
    ok: error === undefined,
    ...(error === undefined ? {} : { error }),
    server: end.server,
    parameters: end.parameters,
    startedAt: end.startedAt,
    ms: end.ms,
    results,
    totals: {
      downloads: results.reduce((a, r) => a + r.downloads, 0),
      bytesVerified,
      errors: failures.length,
      cpuSeconds,
      cpuSecondsPerGiB: bytesVerified === 0 ? null : cpuSeconds / (bytesVerified / 1024 ** 3),
    },
    serverMemory: serverMemory(end.sampler, end.where, end.marks),
    failures,
    cleanup: end.cleanup,
  };
}

function serverMemory(
  sampler: RssSampler | undefined,
  where: ServerLocation,
  marks: readonly { t: number; label: string }[],
): ServerMemory {
  if ("reason" in where) return { measured: false, reason: where.reason };
  const samples = sampler?.samples ?? [];
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (sampler === undefined || first === undefined || last === undefined) {
    return { measured: false, reason: "the server process ended before it could be measured" };
  }
  return {
    measured: true,
    pids: where.pids,
    source: where.source,
    processes: sampler.processes,
    what: "VmRSS of the process and all its children (a --workers server's primary and workers), summed",
    intervalMs: sampler.intervalMs,
    overall: {
      start: first.bytes,
      peak: Math.max(...samples.map((s) => s.bytes)),
      end: last.bytes,
    },
    samples,
    marks,
  };
}

/**
 * The run's failure, if a download failed: BFTP_ERR_VERIFY_FAILED when any download's bytes
 * differed or its transfer check failed (a checksum or length mismatch), else the first code.
 */
function firstError(failures: readonly BenchFailure[]): BenchReport["error"] {
  const [first] = failures;
  if (first === undefined) return undefined;
  const integrity = failures.filter((f) => INTEGRITY_CODES.has(f.code));
  const example = integrity[0] ?? first;
  const code = integrity.length > 0 ? "BFTP_ERR_VERIFY_FAILED" : first.code;
  return {
    code,
    message: `${failures.length} of the downloads failed${integrity.length > 0 ? ` (${integrity.length} did not verify)` : ""}; first: ${example.message}`,
  };
}

const INTEGRITY_CODES: ReadonlySet<string> = new Set([
  "BFTP_ERR_VERIFY_FAILED",
  "BFTP_ERR_CHECKSUM_MISMATCH",
  "BFTP_ERR_SIZE_MISMATCH",
]);
