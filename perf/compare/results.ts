/**
 * The shape of one `npm run bench:compare` run: every figure, per server, as written to
 * `--json FILE` and read by the table and the targets.
 */
import type { BaselineResults } from "./baseline-runs.js";
import type { ServerName } from "./servers.js";
import type {
  ConcurrentResult,
  HugeResult,
  Rate,
  SoakResult,
  WorkloadConfig,
} from "./workloads.js";

/** A workload's figures, or why there are none. */
export type Outcome<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

export const WORKLOAD_NAMES = [
  "get",
  "put",
  "small",
  "tree-get",
  "tree-put",
  "clients",
  "huge",
  "soak",
] as const;
export type WorkloadName = (typeof WORKLOAD_NAMES)[number];

/** What one server did; `notRun` when it could not be started at all. */
export interface ServerResults {
  readonly name: ServerName;
  readonly description?: string;
  readonly notRun?: string;
  readonly get?: Outcome<Rate>;
  readonly put?: Outcome<Rate>;
  readonly small?: Outcome<Rate>;
  /** The tree (issue 12) from the server into a local folder, files/s. */
  readonly "tree-get"?: Outcome<Rate>;
  /** The tree from a local folder to the server, files/s. */
  readonly "tree-put"?: Outcome<Rate>;
  readonly clients?: Outcome<ConcurrentResult>;
  readonly huge?: Outcome<HugeResult>;
  readonly soak?: Outcome<SoakResult>;
  /** GET of the big file by curl into /dev/null, MB/s (FTP servers only): a client check. */
  readonly curlGet?: Outcome<number>;
}

/** The whole run. */
export interface CompareResults {
  readonly startedAt: string;
  readonly machine: {
    readonly cpu: string;
    readonly cores: number;
    readonly memoryGiB: number;
    readonly kernel: string;
    readonly node: string;
    readonly scratch: string;
    readonly scratchFs: string;
  };
  readonly config: WorkloadConfig;
  readonly workloads: readonly WorkloadName[];
  readonly raw?: { readonly get: Outcome<Rate>; readonly put: Outcome<Rate> };
  /** The straight-line baseline (perf/baseline), file to file, for the workloads it has. */
  readonly baseline?: BaselineResults;
  readonly servers: readonly ServerResults[];
  readonly seconds: number;
}
