import assert from "node:assert/strict";
import { test } from "node:test";
import type { BenchReport, SizeResult } from "../../src/bench/bench-report.js";
import { summarize } from "../../src/bench/stats.js";
import { renderHtmlReport } from "../../src/cli/bench-command/html-report.js";
import { lineChart } from "../../src/cli/bench-command/svg-chart.js";

// Issue 5, item 1: the HTML report is self-contained and escapes everything it shows; the
// server's name and its error messages are the server's words, so hostile.

const HOSTILE = `<img src=x onerror="alert(1)">&'`;

function sizeResult(size: number, rates: number[]): SizeResult {
  return {
    size,
    label: `${size} B`,
    upload: { ms: 1, mbps: 1 },
    iterations: rates.map((mbps) => ({ ms: 1, mbps, filesPerSecond: 1000, failed: 0 })),
    mbps: summarize(rates),
    filesPerSecond: summarize([1000]),
    downloads: rates.length,
    bytesVerified: size * rates.length,
    errors: 0,
    cpuSeconds: 0.1,
    cpuSecondsPerGiB: 1,
    serverRss: null,
  };
}

const report: BenchReport = {
  ok: false,
  error: { code: "BFTP_ERR_VERIFY_FAILED", message: HOSTILE },
  server: { host: "127.0.0.1", port: 1, software: HOSTILE, protocol: 1 },
  parameters: {
    sizes: [10, 20],
    iterations: 3,
    concurrency: 1,
    seed: 1,
    folder: "/bftp-bench-x",
    keep: false,
    smallFileMax: 65536,
  },
  startedAt: "2026-01-01T00:00:00.000Z",
  ms: 10,
  results: [sizeResult(10, [1, 2, 3]), sizeResult(20, [4, 5, 6])],
  totals: { downloads: 6, bytesVerified: 90, errors: 1, cpuSeconds: 0.2, cpuSecondsPerGiB: 1 },
  serverMemory: { measured: false, reason: HOSTILE },
  failures: [
    {
      size: 10,
      iteration: 1,
      client: 1,
      code: "BFTP_ERR_VERIFY_FAILED",
      message: HOSTILE,
      offset: 0,
    },
  ],
  cleanup: { removed: false, error: HOSTILE },
};

test("everything the report interpolates is escaped", () => {
  const html = renderHtmlReport(report);
  assert.doesNotMatch(html, /<img|onerror="/);
  assert.match(html, /&#60;img src=x onerror=&#34;alert\(1\)&#34;&#62;&#38;&#39;/);
  assert.doesNotMatch(html, /https?:|<script|<[^>]*\ssrc=|url\(|<link|@import/i);
});

test("a chart draws a point per sample and a line per series", () => {
  const svg = lineChart({
    title: "t",
    xLabel: "x",
    yLabel: "y",
    series: [
      {
        name: "a",
        points: [
          [1, 10],
          [2, 20],
          [3, 15],
        ],
      },
      { name: `b${HOSTILE}`, points: [[1, 5]] },
    ],
  });
  assert.equal(svg.split("<circle").length - 1, 4);
  assert.equal(svg.split("<polyline").length - 1, 1, "one point makes no line");
  assert.doesNotMatch(svg, /<img/);
  assert.match(svg, /^<svg [^>]*viewBox="0 0 900 380"/);
});

test("a log-scale chart leaves out values it cannot place, and an empty one says so", () => {
  const svg = lineChart({
    title: "t",
    xLabel: "x",
    yLabel: "y",
    logY: true,
    series: [
      {
        name: "a",
        points: [
          [1, 0],
          [2, 0.001],
          [3, 1000],
        ],
      },
    ],
  });
  assert.equal(svg.split("<circle").length - 1, 2);
  assert.doesNotMatch(svg, /NaN|Infinity/);
  const empty = lineChart({ title: "t", xLabel: "x", yLabel: "y", series: [] });
  assert.match(empty, /no data/);
  assert.doesNotMatch(empty, /<circle/);
});
