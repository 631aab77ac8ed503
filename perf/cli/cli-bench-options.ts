/**
 * The command line of `npm run bench:cli` (issue 12, item 6): which workloads, how big, how
 * many runs. Pure: arguments in, options or a {@link UsageError} out.
 */
import { parseArgs } from "node:util";
import { parseSize } from "../../src/bench/sizes.js";

/** The workloads, in the order the table lists them. */
export const CLI_WORKLOADS = ["get", "put", "get-r", "put-r", "version"] as const;
export type CliWorkload = (typeof CLI_WORKLOADS)[number];

/** What one run of the bench does. */
export interface CliBenchOptions {
  readonly workloads: readonly CliWorkload[];
  /** Size of the one large file, bytes (default 1 GiB). */
  readonly size: number;
  /** Files in the tree (default 10,000). */
  readonly files: number;
  /** Size of each tree file, bytes (default 4 KiB). */
  readonly fileSize: number;
  /** Measured runs of each side, interleaved, after one warm-up (default 5). */
  readonly runs: number;
  /** Where the scratch folder goes (default /dev/shm). */
  readonly scratch: string;
  /** Also write every sample to this file as JSON. */
  readonly json?: string;
  /** A folder holding the shared `ceiling-get.cjs` and `ceiling-tree.cjs`, run as a third side. */
  readonly ceilings?: string;
  readonly help: boolean;
}

/** A mistake on the command line: printed with a hint to `--help`, exit code 2. */
export class UsageError extends Error {}

export const CLI_BENCH_USAGE = `Usage: npm run bench:cli -- [options]

Drives the built CLI (dist/bundle/bftp.js, what bin runs) file to file against the project's straight-line
baseline (perf/baseline), in the same run, interleaved, and prints medians, ratios and the
targets of issue 12. Start-up of node is inside every figure, on both sides.

Options:
  --workloads LIST   comma-separated, from ${CLI_WORKLOADS.join(",")} (default all)
  --size SIZE        the one large file (default 1GiB)
  --files N          files in the tree (default 10000)
  --file-size SIZE   each tree file (default 4KiB)
  --runs N           measured runs per side, after one warm-up (default 5)
  --quick            --size 256MiB --files 2000 --runs 3
  --scratch DIR      where the files go (default /dev/shm)
  --ceilings DIR     also run the shared ceiling-get.cjs and ceiling-tree.cjs from DIR
  --json FILE        also write every sample to FILE
  -h, --help         this text
`;

function whole(text: string, what: string, max: number): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1 || n > max)
    throw new UsageError(`--${what}: expected a whole number from 1 to ${max}, got "${text}"`);
  return n;
}

function size(text: string, what: string): number {
  const n = parseSize(text);
  if (typeof n === "string") throw new UsageError(`--${what}: ${n}`);
  if (n < 1) throw new UsageError(`--${what}: must be at least 1 byte`);
  return n;
}

/**
 * @example
 * parseCliBenchArgs(["--runs", "3", "--workloads", "get,version"]).workloads // ["get", "version"]
 */
export function parseCliBenchArgs(args: readonly string[]): CliBenchOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        workloads: { type: "string" },
        size: { type: "string" },
        files: { type: "string" },
        "file-size": { type: "string" },
        runs: { type: "string" },
        quick: { type: "boolean", default: false },
        scratch: { type: "string", default: "/dev/shm" },
        ceilings: { type: "string" },
        json: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const quick = values.quick;
  let workloads: CliWorkload[] = [...CLI_WORKLOADS];
  if (values.workloads !== undefined) {
    const picked = values.workloads.split(",").map((s) => s.trim());
    for (const p of picked)
      if (!(CLI_WORKLOADS as readonly string[]).includes(p))
        throw new UsageError(
          `--workloads: unknown "${p}" (choose from ${CLI_WORKLOADS.join(", ")})`,
        );
    workloads = CLI_WORKLOADS.filter((w) => picked.includes(w));
  }
  return {
    workloads,
    size: values.size === undefined ? (quick ? 256 : 1024) * 2 ** 20 : size(values.size, "size"),
    files: values.files === undefined ? (quick ? 2000 : 10_000) : whole(values.files, "files", 1e6),
    fileSize: values["file-size"] === undefined ? 4096 : size(values["file-size"], "file-size"),
    runs: values.runs === undefined ? (quick ? 3 : 5) : whole(values.runs, "runs", 100),
    scratch: values.scratch,
    ...(values.json === undefined ? {} : { json: values.json }),
    ...(values.ceilings === undefined ? {} : { ceilings: values.ceilings }),
    help: values.help,
  };
}
