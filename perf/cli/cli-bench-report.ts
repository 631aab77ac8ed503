/**
 * Turns the samples of `npm run bench:cli` into its table: each workload's median figure for
 * bftp and for the baseline, their ratio, and issue 12's acceptance target met or not met.
 * Pure: samples in, text out.
 */
import { median } from "../../src/bench/stats.js";
import type { CliWorkload } from "./cli-bench-options.js";

/** Wall-clock seconds of every measured run of one side (warm-up not included). */
export interface SideSamples {
  readonly seconds: readonly number[];
}

/** One workload's samples. `amount` is bytes (get, put) or files (get-r, put-r). */
export interface WorkloadSamples {
  readonly workload: CliWorkload;
  readonly amount: number;
  readonly bftp: SideSamples;
  /** The project's baseline (perf/baseline), or `node -e 0` for `version`. */
  readonly baseline: SideSamples;
  /** The shared ceiling program, when `--ceilings` was given (not for `version`). */
  readonly shared?: SideSamples;
  /** Why the workload has no figures. */
  readonly error?: string;
}

/** The acceptance targets (issue 12, "Acceptance"). */
export const TARGETS: Record<CliWorkload, { readonly min?: number; readonly maxExtraMs?: number }> =
  {
    get: { min: 0.85 },
    put: { min: 0.85 },
    "get-r": { min: 0.75 },
    "put-r": { min: 0.75 },
    version: { maxExtraMs: 100 },
  };

const MiB = 2 ** 20;

/** A run's figure: MiB/s, files/s, or milliseconds for `version`. */
export function figure(workload: CliWorkload, amount: number, seconds: number): number {
  if (workload === "version") return seconds * 1000;
  if (workload === "get" || workload === "put") return amount / MiB / seconds;
  return amount / seconds;
}

/** The median of the per-run figures of one side. */
export function medianFigure(w: WorkloadSamples, side: SideSamples): number {
  return median(side.seconds.map((s) => figure(w.workload, w.amount, s)));
}

/** One line of the table, as numbers; `met` is the target's verdict. */
export interface JudgedRow {
  readonly workload: CliWorkload;
  readonly bftp: number;
  readonly baseline: number;
  /** bftp / baseline for rates, bftp - baseline (ms) for `version`: the median of the rounds. */
  readonly ratio: number;
  readonly shared?: number;
  /** baseline / shared, paired by round: how close our baseline is to the shared one (about 1). */
  readonly baselineToShared?: number;
  readonly met: boolean;
}

/**
 * bftp against the baseline, round by round (the two ran next to each other, so a load that
 * drifts over the run hits both alike), then the median: bftp / baseline for rates, bftp -
 * baseline in ms for `version`. Falls back to the ratio of the medians if the counts differ.
 */
export function pairedRatio(
  w: WorkloadSamples,
  first: SideSamples = w.bftp,
  second: SideSamples = w.baseline,
): number {
  const of = (s: number): number => figure(w.workload, w.amount, s);
  const compare = (a: number, b: number): number => (w.workload === "version" ? a - b : a / b);
  const a = first.seconds;
  const b = second.seconds;
  if (a.length !== b.length || a.length === 0)
    return compare(medianFigure(w, first), medianFigure(w, second));
  return median(a.map((s, i) => compare(of(s), of(b[i] ?? Number.NaN))));
}

export function judge(w: WorkloadSamples): JudgedRow {
  const bftp = medianFigure(w, w.bftp);
  const baseline = medianFigure(w, w.baseline);
  const target = TARGETS[w.workload];
  const ratio = pairedRatio(w);
  const met =
    target.maxExtraMs !== undefined ? ratio <= target.maxExtraMs : ratio >= (target.min ?? 0);
  const row = { workload: w.workload, bftp, baseline, ratio, met };
  if (w.shared === undefined || w.shared.seconds.length === 0) return row;
  const shared = medianFigure(w, w.shared);
  return { ...row, shared, baselineToShared: pairedRatio(w, w.baseline, w.shared) };
}

/** What each workload is, in the words of the table. */
export function workloadLabel(w: CliWorkload, amount: number, fileSize: number): string {
  const size = (n: number): string =>
    n >= 2 ** 30 && n % 2 ** 30 === 0
      ? `${n / 2 ** 30} GiB`
      : n >= MiB && n % MiB === 0
        ? `${n / MiB} MiB`
        : n >= 1024 && n % 1024 === 0
          ? `${n / 1024} KiB`
          : `${n} B`;
  const count = amount.toLocaleString("en-US");
  switch (w) {
    case "get":
      return `bftp get ${size(amount)}`;
    case "put":
      return `bftp put ${size(amount)}`;
    case "get-r":
      return `bftp get -r ${count} x ${size(fileSize)}`;
    case "put-r":
      return `bftp put -r ${count} x ${size(fileSize)}`;
    case "version":
      return "bftp --version";
  }
}

const UNIT: Record<CliWorkload, string> = {
  get: "MiB/s",
  put: "MiB/s",
  "get-r": "files/s",
  "put-r": "files/s",
  version: "ms",
};

/** Numbers as people read them: 1,253 or 0.37. */
const whole = (n: number): string => Math.round(n).toLocaleString("en-US");

/** Left-aligned first column, the rest right-aligned, two spaces apart. */
export function alignTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  return rows
    .map((row) =>
      row
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** The table the closing note needs, plus the target lines. */
export function formatCliReport(
  samples: readonly WorkloadSamples[],
  fileSize: number,
  runs: number,
): string {
  const withShared = samples.some((w) => w.shared !== undefined);
  const header = [
    "workload",
    "bftp",
    "baseline",
    "bftp / baseline",
    "target",
    "",
    ...(withShared ? ["shared ceiling", "baseline / shared"] : []),
  ];
  const rows: string[][] = [header];
  const failures: string[] = [];
  for (const w of samples) {
    const label = workloadLabel(w.workload, w.amount, fileSize);
    if (w.error !== undefined) {
      rows.push([label, "failed"]);
      failures.push(`${label}: ${w.error}`);
      continue;
    }
    const j = judge(w);
    const unit = UNIT[w.workload];
    const target = TARGETS[w.workload];
    const isVersion = w.workload === "version";
    rows.push([
      label,
      `${whole(j.bftp)} ${unit}`,
      `${whole(j.baseline)} ${unit}`,
      isVersion ? `+${whole(j.ratio)} ms` : j.ratio.toFixed(2),
      isVersion ? `<= +${target.maxExtraMs ?? 0} ms` : `>= ${(target.min ?? 0).toFixed(2)}`,
      j.met ? "met" : "NOT MET",
      ...(withShared
        ? j.shared === undefined
          ? ["", ""]
          : [`${whole(j.shared)} ${unit}`, (j.baselineToShared ?? Number.NaN).toFixed(2)]
        : []),
    ]);
  }
  const notes = [
    `medians of ${runs} interleaved runs per side after one warm-up; the ratio is the median of the rounds' ratios (each round runs both sides back to back); MiB = 2^20 bytes; node start-up included on both sides`,
    "baseline: perf/baseline (file-baseline.js for get/put, tree-baseline.js for -r); for --version, `node -e 0`",
  ];
  return [
    alignTable(rows),
    "",
    ...notes,
    ...(failures.length > 0 ? ["", "failed:", ...failures.map((f) => `  ${f}`)] : []),
    "",
  ].join("\n");
}
