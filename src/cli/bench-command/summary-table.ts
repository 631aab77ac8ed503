import type { BenchReport, SizeResult } from "../../bench/bench-report.js";
import { sizeLabel } from "../../bench/sizes.js";
import { formatBytes } from "../common.js";

/** A column of the summary: its heading and how a size's row fills it. */
interface Column {
  readonly heading: string;
  readonly cell: (r: SizeResult) => string;
  /** Only when the server's memory was measured. */
  readonly memory?: boolean;
}

const DASH = "-";

const COLUMNS: readonly Column[] = [
  { heading: "size", cell: (r) => r.label },
  { heading: "MB/s min", cell: (r) => rate(r.mbps?.min) },
  { heading: "median", cell: (r) => rate(r.mbps?.median) },
  { heading: "p95", cell: (r) => rate(r.mbps?.p95) },
  { heading: "max", cell: (r) => rate(r.mbps?.max) },
  { heading: "CV", cell: (r) => (r.mbps === null ? DASH : `${(r.mbps.cv * 100).toFixed(1)}%`) },
  {
    heading: "files/s",
    cell: (r) => (r.filesPerSecond === null ? DASH : rate(r.filesPerSecond.median)),
  },
  {
    heading: "CPU s/GiB",
    cell: (r) => rate(r.cpuSecondsPerGiB ?? undefined),
  },
  { heading: "RSS start", cell: (r) => mib(r.serverRss?.start), memory: true },
  { heading: "peak", cell: (r) => mib(r.serverRss?.peak), memory: true },
  { heading: "end", cell: (r) => mib(r.serverRss?.end), memory: true },
  { heading: "errors", cell: (r) => `${r.errors}/${r.downloads}` },
];

/** The summary as a heading row and one row per size (text cells, same for terminal and HTML). */
export function summaryRows(report: BenchReport): { head: string[]; rows: string[][] } {
  const columns = COLUMNS.filter((c) => c.memory !== true || report.serverMemory.measured);
  return {
    head: columns.map((c) => c.heading),
    rows: report.results.map((r) => columns.map((c) => c.cell(r))),
  };
}

/**
 * The report for a terminal: the table (numbers right-aligned), then what was verified, the
 * client's CPU, the server's memory and the cleanup, one line each.
 *
 * @example
 * size   MB/s min  median    p95    max    CV  files/s  CPU s/GiB  errors
 * 1 MiB     612.0   655.3  690.1  702.4  3.1%        -       0.91    0/20
 */
export function renderText(report: BenchReport): string[] {
  const { head, rows } = summaryRows(report);
  const widths = head.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  const { totals, parameters, serverMemory } = report;
  const lines = [line(head), ...rows.map(line), ""];
  lines.push(
    `verified ${formatBytes(totals.bytesVerified)} in ${totals.downloads} downloads (${parameters.iterations} iterations x ${parameters.concurrency} client${parameters.concurrency === 1 ? "" : "s"}), ${totals.errors} failed`,
    `client CPU ${totals.cpuSeconds.toFixed(2)} s${totals.cpuSecondsPerGiB === null ? "" : ` (${totals.cpuSecondsPerGiB.toFixed(2)} s/GiB)`}; MB/s = 10^6 bytes/s; files/s for sizes up to ${sizeLabel(parameters.smallFileMax)}`,
    serverMemory.measured
      ? `server RSS (pid ${serverMemory.pids.join(", ")}, ${serverMemory.processes} process${serverMemory.processes === 1 ? "" : "es"}): start ${mib(serverMemory.overall.start)}, peak ${mib(serverMemory.overall.peak)}, end ${mib(serverMemory.overall.end)}`
      : `server RSS: not measured (${serverMemory.reason})`,
    report.cleanup.removed
      ? `removed ${parameters.folder} from the server; took ${(report.ms / 1000).toFixed(1)} s`
      : `left ${parameters.folder} on the server${parameters.keep ? " (--keep)" : ""}; took ${(report.ms / 1000).toFixed(1)} s`,
  );
  return lines;
}

/** MB/s, files/s, s/GiB: two decimals under 10, one under 100, none above; 12k past 100,000. */
export function rate(n: number | undefined): string {
  if (n === undefined) return DASH;
  if (n > 0 && n < 0.01) return n.toPrecision(2);
  if (n >= 100_000) return `${(n / 1000).toFixed(0)}k`;
  return n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0);
}

function mib(n: number | undefined): string {
  return n === undefined ? DASH : `${(n / 1024 ** 2).toFixed(1)} MiB`;
}
