import assert from "node:assert/strict";
import { test } from "node:test";
import {
  formatReport,
  formatSize,
  formatTables,
  judgeTargets,
} from "../../../perf/compare/report-table.js";
import type { CompareResults, ServerResults } from "../../../perf/compare/results.js";
import { FULL_CONFIG, type Rate } from "../../../perf/compare/workloads.js";

const MiB = 1 << 20;
const rate = (median: number): { ok: true; value: Rate } => ({
  ok: true,
  value: { median, samples: [median] },
});

function server(
  name: ServerResults["name"],
  get: number,
  small: number,
  rss: number,
): ServerResults {
  return {
    name,
    description: `${name} for the test`,
    get: rate(get),
    put: rate(get / 2),
    small: rate(small),
    "tree-get": rate(small / 2),
    "tree-put": rate(small / 4),
    clients: {
      ok: true,
      value: {
        aggregate: { median: get / 3, samples: [get / 3] },
        errors: 0,
        verifiedBytes: 100 * 10 * MiB,
        peakRss: rss,
        peakPss: rss,
        peakProcesses: 1,
      },
    },
    huge: { ok: true, value: { mbps: get, baselineRss: rss, peakRss: rss, peakPss: rss } },
    soak: {
      ok: true,
      value: {
        iterations: 1000,
        seconds: 10,
        baselineRss: rss,
        finalRss: rss + 5e6,
        peakRss: rss + 5e6,
        growth: 5e6,
        pssGrowth: 5e6,
      },
    },
  };
}

const RESULTS: CompareResults = {
  startedAt: "2026-11-21T00:00:00.000Z",
  machine: {
    cpu: "test cpu",
    cores: 2,
    memoryGiB: 24,
    kernel: "6",
    node: "v20",
    scratch: "/dev/shm",
    scratchFs: "tmpfs",
  },
  config: { ...FULL_CONFIG, runs: 1 },
  workloads: ["get", "put", "small", "tree-get", "tree-put", "clients", "huge", "soak"],
  raw: { get: rate(4000), put: rate(2000) },
  baseline: {
    get: rate(4500),
    put: rate(3000),
    "tree-get": rate(20_000),
    "tree-put": { ok: false, error: "sink gone" },
  },
  servers: [
    server("bftp", 3600, 25_000, 60e6),
    server("vsftpd", 2800, 3000, 5e6),
    { name: "pure-ftpd", notRun: "not unpacked" },
    { ...server("pyftpdlib", 4000, 2600, 30e6), put: { ok: false, error: "boom" } },
  ],
  seconds: 42,
};

test("formatSize names binary sizes", () => {
  assert.equal(formatSize(1024 * MiB), "1 GiB");
  assert.equal(formatSize(4096), "4 KiB");
  assert.equal(formatSize(1.5 * MiB), "1.5 MiB");
  assert.equal(formatSize(10), "10 B");
});

test("the tables hold each figure and the ratios bftp / peer, / baseline and / raw", () => {
  const text = formatTables(RESULTS);
  const line = (start: string): string[] =>
    (text.split("\n").find((l) => l.startsWith(start)) ?? "").split(/\s{2,}/);
  assert.deepEqual(line("figure"), [
    "figure",
    "bftp",
    "vsftpd",
    "pure-ftpd",
    "pyftpdlib",
    "baseline",
    "raw pipe",
  ]);
  assert.deepEqual(line("GET 1 GiB, MB/s"), [
    "GET 1 GiB, MB/s",
    "3600",
    "2800",
    "not run",
    "4000",
    "4500",
    "4000",
  ]);
  assert.deepEqual(line("PUT 1 GiB, MB/s"), [
    "PUT 1 GiB, MB/s",
    "1800",
    "1400",
    "not run",
    "failed",
    "3000",
    "2000",
  ]);
  assert.deepEqual(line("tree GET 10000 x 4 KiB, files/s"), [
    "tree GET 10000 x 4 KiB, files/s",
    "12500",
    "1500",
    "not run",
    "1300",
    "20000",
  ]);
  assert.deepEqual(line("tree PUT 10000 x 4 KiB, files/s"), [
    "tree PUT 10000 x 4 KiB, files/s",
    "6250",
    "750",
    "not run",
    "650",
    "failed",
  ]);
  // The ratio rows: bftp / vsftpd, / pure-ftpd, / pyftpdlib, / baseline, / raw.
  assert.deepEqual(line("GET 1 GiB "), ["GET 1 GiB", "1.29", "not run", "0.90", "0.80", "0.90"]);
  assert.deepEqual(line("PUT 1 GiB "), ["PUT 1 GiB", "1.29", "not run", "failed", "0.60", "0.90"]);
  assert.deepEqual(line("1000 x 4 KiB "), ["1000 x 4 KiB", "8.33", "not run", "9.62"]);
  assert.deepEqual(line("tree GET 10000 x 4 KiB "), [
    "tree GET 10000 x 4 KiB",
    "8.33",
    "not run",
    "9.62",
    "0.63",
  ]);
  assert.deepEqual(line("tree PUT 10000 x 4 KiB "), [
    "tree PUT 10000 x 4 KiB",
    "8.33",
    "not run",
    "9.62",
    "failed",
  ]);
});

test("issue 12's targets are met, not met, or not run, each with its figure", () => {
  const lines = judgeTargets(RESULTS);
  const find = (start: string): string | undefined =>
    lines.find((l) => l.text.startsWith(start))?.status;
  assert.equal(find("GET 1 GiB ahead of vsftpd"), "met");
  assert.equal(find("GET 1 GiB ahead of pure-ftpd"), "not run");
  assert.equal(find("GET 1 GiB >= 0.9 x pyftpdlib"), "met"); // exactly 0.90
  assert.equal(find("PUT 1 GiB ahead of vsftpd"), "met");
  assert.equal(find("PUT 1 GiB >= 0.9 x pyftpdlib"), "not run");
  assert.equal(find("1000 x 4 KiB >= 5 x fastest peer"), "met");
  assert.equal(find("tree GET 10000 x 4 KiB >= 0.75 x baseline"), "not met");
  assert.equal(find("tree PUT 10000 x 4 KiB >= 0.75 x baseline"), "not run");
  assert.equal(find("100 clients x 10 MiB: zero errors"), "met");
  assert.equal(find("100 clients x 10 MiB ahead of vsftpd"), "met");
  assert.equal(find("100 clients x 10 MiB >= 0.8 x pyftpdlib"), "met");
  assert.equal(find("100 clients x 10 MiB: server peak RSS < 100 MB"), "met");
  assert.equal(find("GET 2 GiB: server RSS < 100 MB"), "met");
  assert.equal(find("soak 1000 x 1 MiB: RSS growth < 20 MB"), "met");
  assert.match(
    lines.find((l) => l.text.startsWith("GET 1 GiB >= 0.9 x pyftpdlib"))?.text ?? "",
    /0\.90/,
  );
  assert.match(
    lines.find((l) => l.text.startsWith("tree GET 10000 x 4 KiB >= 0.75"))?.text ?? "",
    /0\.63/,
  );
});

test("a bftp that missed a target is reported not met", () => {
  const slow = {
    ...RESULTS,
    servers: [server("bftp", 1000, 500, 150e6), ...RESULTS.servers.slice(1)],
  };
  const lines = judgeTargets(slow);
  assert.ok(lines.length > 5);
  for (const start of [
    "GET 1 GiB ahead of vsftpd",
    "GET 1 GiB >= 0.9 x pyftpdlib",
    "1000 x 4 KiB >= 5 x fastest peer",
    "100 clients x 10 MiB: server peak RSS",
    "GET 2 GiB: server RSS",
  ])
    assert.equal(lines.find((l) => l.text.startsWith(start))?.status, "not met", start);
});

test("the report names the reasons for what did not run or failed", () => {
  const text = formatReport(RESULTS);
  assert.match(text, /pure-ftpd: not run: not unpacked/);
  assert.match(text, /pyftpdlib put: failed: boom/);
  assert.match(text, /baseline tree-put: failed: sink gone/);
  assert.match(text, /\[met\] +GET 1 GiB ahead of vsftpd/);
  assert.match(text, /targets \(issue 12/);
});
