import type { BenchConfig } from "./bench-config.js";

/** Where the sender ran relative to the receiver. */
export type Variant = "two-process" | "in-process";

/** A target a measured metric must reach. */
export interface Target {
  /** Compare the ratio to the raw pipe, or the absolute median rate. */
  readonly kind: "ratio" | "rate";
  readonly atLeast: number;
}

/** One row of the report: a rate measured over several runs. */
export interface MetricResult {
  /** Stable identifier, e.g. `"body.streamExactly"`. */
  readonly id: string;
  readonly label: string;
  readonly unit: "MB/s" | "frames/s";
  readonly variant: Variant;
  /** One rate per measured run, in run order. */
  readonly samples: readonly number[];
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** This row's median over the raw pipe's median for the same bytes; 1 for the raw rows. */
  readonly ratioToRaw: number;
  /** Null for baselines and the informational in-process rows. */
  readonly target: Target | null;
  readonly met: boolean | null;
  /** The median of the per-run ratios ours/raw (runs are measured in adjacent pairs). */
  readonly pairedRatio: number;
  /** Receiver-process CPU (user + system) per run, in run order, in milliseconds. */
  readonly cpuMs: readonly number[];
}

/** What one measured run yields. */
export interface RunSample {
  /** MB/s or frames/s, by metric. */
  readonly rate: number;
  /** CPU the receiving process used during the run (user + system), in milliseconds. */
  readonly cpuMs: number;
}

/** The median of a non-empty list (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const upper = sorted[mid] ?? Number.NaN;
  return sorted.length % 2 === 1 ? upper : ((sorted[mid - 1] ?? Number.NaN) + upper) / 2;
}

/**
 * A report row from the runs of one metric and those of its raw baseline (same length,
 * run `i` of each measured back to back).
 *
 * @example
 * const runs = [{ rate: 900, cpuMs: 5 }, { rate: 1000, cpuMs: 5 }];
 * summarize({ id: "body.raw", label: "raw", unit: "MB/s", variant: "two-process" },
 *   runs, runs, null).ratioToRaw; // 1
 */
export function summarize(
  what: Pick<MetricResult, "id" | "label" | "unit" | "variant">,
  runs: readonly RunSample[],
  rawRuns: readonly RunSample[],
  target: Target | null,
): MetricResult {
  const samples = runs.map((run) => run.rate);
  const med = median(samples);
  const ratioToRaw = med / median(rawRuns.map((run) => run.rate));
  const pairedRatio = median(runs.map((run, i) => run.rate / (rawRuns[i]?.rate ?? Number.NaN)));
  const met =
    target === null ? null : (target.kind === "ratio" ? ratioToRaw : med) >= target.atLeast;
  return {
    ...what,
    samples,
    median: med,
    min: Math.min(...samples),
    max: Math.max(...samples),
    ratioToRaw,
    target,
    met,
    pairedRatio,
    cpuMs: runs.map((run) => run.cpuMs),
  };
}

/**
 * Lines printed under the table: the paired ratios, and the receiver's CPU per run, which
 * varies far less than wall-clock rates on a shared machine and shows where a gap comes from.
 */
export function formatNotes(rows: readonly MetricResult[]): string[] {
  const notes = [
    "ratio to raw = median(ours) / median(raw); paired = median over runs of ours/raw",
  ];
  for (const row of rows) {
    if (row.id.endsWith(".raw")) continue;
    const raw = rows.find(
      (r) => r.variant === row.variant && r.id === row.id.replace(/\.ours$/, ".raw"),
    );
    const variant = row.variant === "in-process" ? " [1 process]" : "";
    notes.push(
      `${row.label}${variant}: paired ratio ${row.pairedRatio.toFixed(2)}; receiver CPU per run ` +
        `${median(row.cpuMs).toFixed(0)} ms (raw pipe ${raw ? median(raw.cpuMs).toFixed(0) : "?"} ms)`,
    );
  }
  return notes;
}

/** The configuration lines printed above the table (nothing random: there is no seed). */
export function describeConfig(config: BenchConfig, environment: Record<string, string>): string[] {
  const lines = [
    "bftp wire bench: real TCP on 127.0.0.1 (port 0); rates are medians; MB = 10^6 bytes",
    `  runs ${config.runs} (+1 warm-up)   body ${formatBytes(config.bodyBytes)} per run   ` +
      `frames ${formatInt(config.frames)} x 108 B per run   writes of ${formatBytes(config.writeSize)}`,
    `  sender: forked child process${config.inProcess ? " (and in-process rows)" : ""}   ` +
      `transfer timeout ${config.timeoutMs} ms`,
  ];
  lines.push(
    `  ${Object.entries(environment)
      .map(([k, v]) => `${k} ${v}`)
      .join("   ")}`,
  );
  return lines;
}

/** The compact table: metric, median, min, max, runs, ratio to raw, target, met. */
export function formatTable(rows: readonly MetricResult[]): string {
  const header = ["metric", "median", "min", "max", "runs", "ratio to raw", "target", "met"];
  const body = rows.map((row) => [
    `${row.label} (${row.unit})${row.variant === "in-process" ? " [1 process]" : ""}`,
    formatRate(row.median, row.unit),
    formatRate(row.min, row.unit),
    formatRate(row.max, row.unit),
    String(row.samples.length),
    row.ratioToRaw.toFixed(2),
    formatTarget(row.target, row.unit),
    row.met === null ? "-" : row.met ? "met" : "NOT MET",
  ]);
  const table = [header, ...body];
  const widths = header.map((_, c) => Math.max(...table.map((cells) => (cells[c] ?? "").length)));
  const leftAligned = new Set([0, 6, 7]);
  return table
    .map((cells) =>
      cells
        .map((cell, c) => {
          const width = widths[c] ?? 0;
          return leftAligned.has(c) ? cell.padEnd(width) : cell.padStart(width);
        })
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

function formatTarget(target: Target | null, unit: MetricResult["unit"]): string {
  if (target === null) return "-";
  if (target.kind === "ratio") return `ratio >= ${target.atLeast.toFixed(2)}`;
  return `>= ${formatRate(target.atLeast, unit)} ${unit}`;
}

function formatRate(value: number, unit: MetricResult["unit"]): string {
  return unit === "MB/s" ? value.toFixed(1) : formatInt(value);
}

function formatInt(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

function formatBytes(bytes: number): string {
  for (const [unit, size] of [
    ["GiB", 1024 ** 3],
    ["MiB", 1024 ** 2],
    ["KiB", 1024],
  ] as const) {
    if (bytes >= size && bytes % (size / 16) === 0) return `${bytes / size} ${unit}`;
  }
  return `${bytes} B`;
}
