import { parseArgs } from "node:util";

/** What one `npm run bench` measures; printed at the top of every report. */
export interface BenchConfig {
  /** Measured runs per metric, after one warm-up run. */
  readonly runs: number;
  /** Body streamed through `streamExactly` (and the raw pipe) per run, in bytes. */
  readonly bodyBytes: number;
  /** Frames decoded with `readFrame` (and piped raw) per run. */
  readonly frames: number;
  /** Bytes per `writeAll` call on the sending side. */
  readonly writeSize: number;
  /** Longest a single transfer may take before the bench fails, in milliseconds. */
  readonly timeoutMs: number;
  /** Also measure with sender and receiver sharing one event loop. */
  readonly inProcess: boolean;
  /** Print machine-readable JSON instead of the table. */
  readonly json: boolean;
  /** Measure only this metric (for profiling one of them); both when absent. */
  readonly only?: "body" | "frames";
}

/** How the script was asked to run: the measuring parent, or the forked sender. */
export type BenchRole =
  { readonly role: "bench"; readonly config: BenchConfig } | { readonly role: "sender" };

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

/** The text printed for `--help`. */
export const USAGE = `Usage: node dist/perf/wire-bench.js [options]

  --runs N          measured runs per metric, after one warm-up (default 5)
  --size BYTES      streamed body per run: 1GiB, 64MiB, 500KiB or a byte count (default 1GiB)
  --frames N        frames decoded per run (default size / 1024, so 1,048,576 for 1 GiB)
  --write-size B    bytes per write on the sending side (default 1MiB)
  --timeout MS      longest one transfer may take (default 120000)
  --only METRIC     measure only "body" or "frames" (for profiling one of them)
  --in-process      also measure with the sender on the receiver's event loop
  --json            print the results as JSON
  --help            print this text`;

/**
 * Parses the command line (without the node and script arguments).
 * Throws an `Error` whose message is fit to print for a bad argument.
 *
 * @example
 * parseBenchArgs(["--runs", "3", "--size", "64MiB"]); // { role: "bench", config: {...} }
 */
export function parseBenchArgs(argv: readonly string[]): BenchRole | "help" {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      role: { type: "string" },
      runs: { type: "string" },
      size: { type: "string" },
      frames: { type: "string" },
      "write-size": { type: "string" },
      timeout: { type: "string" },
      only: { type: "string" },
      "in-process": { type: "boolean" },
      json: { type: "boolean" },
      help: { type: "boolean" },
    },
  });
  if (values.help === true) return "help";
  if (values.role === "sender") return { role: "sender" };
  if (values.role !== undefined) throw new Error(`Cannot run as role "${values.role}"`);
  const { only } = values;
  if (only !== undefined && only !== "body" && only !== "frames") {
    throw new Error(`Cannot use --only "${only}": expected "body" or "frames"`);
  }
  const bodyBytes = parseSize(values.size ?? "1GiB", "--size");
  const frames = parseCount(
    values.frames ?? String(Math.max(1, Math.floor(bodyBytes / 1024))),
    "--frames",
  );
  return {
    role: "bench",
    config: {
      runs: parseCount(values.runs ?? "5", "--runs"),
      bodyBytes,
      frames,
      writeSize: parseSize(values["write-size"] ?? "1MiB", "--write-size"),
      timeoutMs: parseCount(values.timeout ?? "120000", "--timeout"),
      inProcess: values["in-process"] === true,
      json: values.json === true,
      ...(only === undefined ? {} : { only }),
    },
  };
}

/**
 * A byte count written as a number with an optional binary unit (B, KiB, MiB, GiB; the
 * short forms k, m, g mean the same).
 *
 * @example
 * parseSize("64MiB", "--size"); // 67108864
 */
export function parseSize(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(b|k|kib|m|mib|g|gib)?$/i.exec(text.trim());
  const unit = (match?.[2] ?? "b").toLowerCase();
  const scale = unit.startsWith("g")
    ? GIB
    : unit.startsWith("m")
      ? MIB
      : unit.startsWith("k")
        ? 1024
        : 1;
  const bytes = Math.floor(Number(match?.[1]) * scale);
  if (match === null || !Number.isSafeInteger(bytes) || bytes < 1) {
    throw new Error(`Cannot use ${flag} "${text}": expected a positive size such as 1GiB or 65536`);
  }
  return bytes;
}

function parseCount(text: string, flag: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1) {
    throw new Error(`Cannot use ${flag} "${text}": expected a positive whole number`);
  }
  return n;
}
