/**
 * What `bftp bench` measured: the document `--json` prints and the HTML report draws
 * (docs/cli.md: `bftp bench`). Rates are in MB/s of 10^6 bytes; times in milliseconds.
 */
import type { RssSample } from "./rss-sampler.js";
import type { Summary } from "./stats.js";

/** Sizes up to this many bytes also report files/s (their MB/s is mostly round trips). */
export const SMALL_FILE_MAX = 64 * 1024;

/** One iteration of one size: every client downloaded the file once, at the same time. */
export interface IterationResult {
  /** Wall time from the first request to the last byte of the slowest client, ms. */
  readonly ms: number;
  /** Bytes verified in this iteration over its wall time, MB/s; null for an empty file. */
  readonly mbps: number | null;
  /** Downloads finished per second in this iteration. */
  readonly filesPerSecond: number;
  /** Downloads of this iteration that failed (then the iteration is left out of the figures). */
  readonly failed: number;
}

/** The server's resident memory over one phase, bytes. */
export interface RssSpan {
  readonly start: number;
  readonly peak: number;
  readonly end: number;
}

/** Everything measured for one size. */
export interface SizeResult {
  readonly size: number;
  /** The size as people write it: `4 KiB`. */
  readonly label: string;
  /** The one upload of the test file: wall time and MB/s (null for an empty file). */
  readonly upload: { readonly ms: number; readonly mbps: number | null };
  readonly iterations: readonly IterationResult[];
  /** MB/s over the iterations without failures; null for an empty file or when all failed. */
  readonly mbps: Summary | null;
  /** Files/s over the same iterations, for sizes up to {@link SMALL_FILE_MAX}; else null. */
  readonly filesPerSecond: Summary | null;
  readonly downloads: number;
  /** Bytes received and compared with the bytes sent (downloads that verified). */
  readonly bytesVerified: number;
  readonly errors: number;
  /** Client CPU time (user + system) over this size's downloads, seconds. */
  readonly cpuSeconds: number;
  /** {@link cpuSeconds} per GiB verified; null when no byte was. */
  readonly cpuSecondsPerGiB: number | null;
  /** The server's memory during this size's downloads; null when not measured. */
  readonly serverRss: RssSpan | null;
}

/** One failed download. */
export interface BenchFailure {
  readonly size: number;
  /** 1-based. */
  readonly iteration: number;
  /** 1-based: which of the `--concurrency` clients. */
  readonly client: number;
  readonly code: string;
  readonly message: string;
  /** For BFTP_ERR_VERIFY_FAILED: the offset of the first byte that differed or was missing. */
  readonly offset?: number;
}

/** How the server's memory was measured, or why it was not. */
export type ServerMemory =
  | {
      readonly measured: true;
      /** The process(es) at the root: the one that holds the listening socket, or --server-pid. */
      readonly pids: readonly number[];
      /** How the PID was found: "listening socket" or "--server-pid". */
      readonly source: string;
      /** Most processes summed in one sample (a `--workers` server's primary and workers). */
      readonly processes: number;
      readonly what: string;
      readonly intervalMs: number;
      readonly overall: RssSpan;
      /** Samples, ms since the run began. */
      readonly samples: readonly RssSample[];
      /** When each size's downloads began, ms since the run began. */
      readonly marks: readonly { readonly t: number; readonly label: string }[];
    }
  | { readonly measured: false; readonly reason: string };

/** The whole run. */
export interface BenchReport {
  readonly ok: boolean;
  readonly error?: { readonly code: string; readonly message: string };
  readonly server: {
    readonly host: string;
    readonly port: number;
    readonly software: string;
    readonly protocol: number;
  };
  readonly parameters: {
    readonly sizes: readonly number[];
    readonly iterations: number;
    readonly concurrency: number;
    readonly seed: number;
    readonly folder: string;
    readonly keep: boolean;
    readonly smallFileMax: number;
  };
  readonly startedAt: string;
  readonly ms: number;
  readonly results: readonly SizeResult[];
  readonly totals: {
    readonly downloads: number;
    readonly bytesVerified: number;
    readonly errors: number;
    readonly cpuSeconds: number;
    readonly cpuSecondsPerGiB: number | null;
  };
  readonly serverMemory: ServerMemory;
  readonly failures: readonly BenchFailure[];
  /** Whether the uploaded files and the folder are gone (false with --keep). */
  readonly cleanup: { readonly removed: boolean; readonly error?: string };
}
