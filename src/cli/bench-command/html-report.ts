/**
 * The `bftp bench --report FILE.html` page: one self-contained file (inline CSS and SVG, no
 * script, no external resource), so it opens anywhere without a network. It shows the run's
 * parameters, the summary table, throughput per iteration (one line per size), files/s for
 * small files, and the server's memory over time.
 */
import type { BenchReport } from "../../bench/bench-report.js";
import { sizeLabel } from "../../bench/sizes.js";
import { formatBytes } from "../common.js";
import { summaryRows } from "./summary-table.js";
import { escapeHtml, lineChart, type Series } from "./svg-chart.js";

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1100px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
.verdict { font-weight: 600; } .ok { color: #17663a; } .failed { color: #b00020; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { padding: 3px 10px; border-bottom: 1px solid #ddd; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
dl { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; margin: 0; }
dt { color: #555; } dd { margin: 0; }
.chart { display: block; margin: 8px 0 4px; background: #fff; }
.chart .plot { fill: #fafafa; stroke: #999; } .chart .grid { stroke: #e3e3e3; }
.chart .axis { stroke: #999; } .chart .tick, .chart .legend, .chart .marklabel { font-size: 11px; fill: #333; }
.chart .label { font-size: 12px; fill: #333; } .chart .title { font-size: 14px; font-weight: 600; }
.chart .mark { stroke: #aaa; stroke-dasharray: 4 3; }
.note { color: #555; font-size: 13px; }
`;

/** The HTML report of a bench run, as one string. */
export function renderHtmlReport(report: BenchReport): string {
  const p = report.parameters;
  const title = `bftp bench ${report.server.host}:${report.server.port}`;
  const verdict = report.ok
    ? `<p class="verdict ok">Every byte of ${report.totals.downloads} downloads verified (${escapeHtml(formatBytes(report.totals.bytesVerified))}).</p>`
    : `<p class="verdict failed">Failed: ${escapeHtml(report.error?.message ?? "")} (${escapeHtml(report.error?.code ?? "")})</p>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${verdict}
<h2>Run</h2>
<dl>
${definition("server", `${report.server.software} (BFTP/${report.server.protocol}) at ${report.server.host}:${report.server.port}`)}
${definition("started", report.startedAt)}
${definition("took", `${(report.ms / 1000).toFixed(1)} s`)}
${definition("sizes", p.sizes.map(sizeLabel).join(", "))}
${definition("iterations", `${p.iterations}, each with ${p.concurrency} client${p.concurrency === 1 ? "" : "s"} downloading at once`)}
${definition("seed", String(p.seed))}
${definition("remote folder", `${p.folder} (${report.cleanup.removed ? "removed" : p.keep ? "kept, --keep" : `not removed: ${report.cleanup.error ?? ""}`})`)}
${definition("client CPU", `${report.totals.cpuSeconds.toFixed(2)} s${report.totals.cpuSecondsPerGiB === null ? "" : `, ${report.totals.cpuSecondsPerGiB.toFixed(2)} s per GiB verified`}`)}
</dl>
<h2>Summary</h2>
${summaryTable(report)}
<p class="note">MB/s are 10<sup>6</sup> bytes per second over each iteration's wall time (all clients' bytes together);
CV is the standard deviation over the mean of those rates (lower is more uniform);
files/s is shown for sizes up to ${escapeHtml(sizeLabel(p.smallFileMax))}. Every downloaded byte was compared with the byte uploaded, then discarded.</p>
<h2>Throughput per iteration</h2>
${throughputChart(report)}
${filesChart(report)}
<h2>Server memory</h2>
${memorySection(report)}
${failuresSection(report)}
</body>
</html>
`;
}

function definition(term: string, value: string): string {
  return `<dt>${escapeHtml(term)}</dt><dd>${escapeHtml(value)}</dd>`;
}

function summaryTable(report: BenchReport): string {
  const { head, rows } = summaryRows(report);
  const cells = (tag: string, row: readonly string[]): string =>
    `<tr>${row.map((c) => `<${tag}>${escapeHtml(c)}</${tag}>`).join("")}</tr>`;
  return `<table>\n<thead>${cells("th", head)}</thead>\n<tbody>\n${rows.map((r) => cells("td", r)).join("\n")}\n</tbody>\n</table>`;
}

function throughputChart(report: BenchReport): string {
  const series: Series[] = report.results
    .filter((r) => r.size > 0)
    .map((r) => ({
      name: r.label,
      points: r.iterations.flatMap((it, i) =>
        it.mbps === null || it.failed > 0 ? [] : [[i + 1, it.mbps] as const],
      ),
    }));
  const ys = series.flatMap((s) => s.points.map(([, y]) => y));
  const spread = ys.length > 0 ? Math.max(...ys) / Math.max(Math.min(...ys), 1e-9) : 1;
  return lineChart({
    title: "Download throughput per iteration (MB/s, all clients together)",
    xLabel: "iteration",
    yLabel: spread > 50 ? "MB/s (log scale)" : "MB/s",
    series,
    logY: spread > 50,
  });
}

function filesChart(report: BenchReport): string {
  const series: Series[] = report.results
    .filter((r) => r.filesPerSecond !== null)
    .map((r) => ({
      name: r.label,
      points: r.iterations.flatMap((it, i) =>
        it.failed > 0 ? [] : [[i + 1, it.filesPerSecond] as const],
      ),
    }));
  if (series.length === 0) return "";
  return lineChart({
    title: `Small files: downloads per second per iteration (sizes up to ${sizeLabel(report.parameters.smallFileMax)})`,
    xLabel: "iteration",
    yLabel: "files/s",
    series,
    height: 300,
  });
}

function memorySection(report: BenchReport): string {
  const memory = report.serverMemory;
  if (!memory.measured) return `<p>Not measured: ${escapeHtml(memory.reason)}.</p>`;
  const chart = lineChart({
    title: "Server resident memory (RSS) over time",
    xLabel: "seconds since the run began (dashed: each size's downloads begin)",
    yLabel: "MiB",
    series: [
      {
        name: "server RSS",
        points: memory.samples.map((s) => [s.t / 1000, s.bytes / 1024 ** 2] as const),
      },
    ],
    marks: memory.marks.map((m) => ({ x: m.t / 1000, label: m.label })),
    formatY: (y) => y.toFixed(0),
  });
  return `${chart}
<p class="note">${escapeHtml(
    `${memory.what}: PID ${memory.pids.join(", ")} (found by ${memory.source}), up to ${memory.processes} process${memory.processes === 1 ? "" : "es"}, sampled every ${memory.intervalMs} ms. ` +
      `Start ${formatBytes(memory.overall.start)}, peak ${formatBytes(memory.overall.peak)}, end ${formatBytes(memory.overall.end)}.`,
  )}</p>`;
}

function failuresSection(report: BenchReport): string {
  if (report.failures.length === 0) return "";
  const shown = report.failures.slice(0, 100);
  const rows = shown
    .map(
      (f) =>
        `<tr><td>${escapeHtml(sizeLabel(f.size))}</td><td>${f.iteration}</td><td>${f.client}</td><td>${escapeHtml(f.code)}</td><td style="text-align:left">${escapeHtml(f.message)}</td></tr>`,
    )
    .join("\n");
  const more =
    report.failures.length > shown.length
      ? `<p>… and ${report.failures.length - shown.length} more.</p>`
      : "";
  return `<h2>Failures</h2>
<table><thead><tr><th>size</th><th>iteration</th><th>client</th><th>code</th><th>message</th></tr></thead>
<tbody>
${rows}
</tbody></table>${more}`;
}
