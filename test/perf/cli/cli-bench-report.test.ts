import assert from "node:assert/strict";
import { test } from "node:test";
import {
  alignTable,
  figure,
  formatCliReport,
  judge,
  medianFigure,
  pairedRatio,
  TARGETS,
  workloadLabel,
  type WorkloadSamples,
} from "../../../perf/cli/cli-bench-report.js";

const MiB = 2 ** 20;
const GiB = 2 ** 30;

const get = (bftp: number[], baseline: number[], shared?: number[]): WorkloadSamples => ({
  workload: "get",
  amount: GiB,
  bftp: { seconds: bftp },
  baseline: { seconds: baseline },
  ...(shared === undefined ? {} : { shared: { seconds: shared } }),
});

test("figures: MiB/s for one file, files/s for a tree, ms for --version", () => {
  assert.equal(figure("get", GiB, 2), 512);
  assert.equal(figure("put", 512 * MiB, 0.5), 1024);
  assert.equal(figure("get-r", 10_000, 0.8), 12_500);
  assert.equal(figure("put-r", 10_000, 2), 5000);
  assert.equal(figure("version", 0, 0.25), 250);
});

test("the median is of the per-run figures, not of the times", () => {
  const w = get([1, 2, 4], [1, 1, 1]);
  assert.equal(medianFigure(w, w.bftp), 512);
  const even = get([1, 2], [1]);
  assert.equal(medianFigure(even, even.bftp), (1024 + 512) / 2);
});

test("the ratio is the median of the rounds' ratios, so drift over the run cancels", () => {
  // Round 2 ran under load on both sides; the medians of each side would say 0.5 / 0.33.
  const w = get([1, 4, 1], [0.5, 2, 0.5]);
  assert.equal(pairedRatio(w), 0.5);
  assert.equal(judge(w).bftp, 1024);
  assert.equal(judge(w).baseline, 2048);
  // Counts that differ fall back to the ratio of the medians.
  assert.equal(pairedRatio(get([1, 1], [0.5])), 0.5);
  const v: WorkloadSamples = {
    workload: "version",
    amount: 0,
    bftp: { seconds: [0.2, 0.9, 0.3] },
    baseline: { seconds: [0.1, 0.7, 0.1] },
  };
  assert.ok(Math.abs(pairedRatio(v) - 200) < 1e-9);
});

test("a rate's ratio is bftp / baseline and meets its target at the bound", () => {
  const at = judge(get([1 / 0.85], [1]));
  assert.ok(Math.abs(at.ratio - 0.85) < 1e-9);
  assert.equal(at.met, true);
  const below = judge(get([2], [1]));
  assert.equal(below.ratio, 0.5);
  assert.equal(below.met, false);
});

test("tree targets are 0.75 of the baseline", () => {
  assert.equal(TARGETS["get-r"].min, 0.75);
  assert.equal(TARGETS["put-r"].min, 0.75);
  const w: WorkloadSamples = {
    workload: "put-r",
    amount: 10_000,
    bftp: { seconds: [1.3] },
    baseline: { seconds: [1] },
  };
  assert.equal(judge(w).met, true);
  assert.equal(judge({ ...w, bftp: { seconds: [1.4] } }).met, false);
});

test("--version: the difference in ms, met within 100 ms of node -e 0", () => {
  const w: WorkloadSamples = {
    workload: "version",
    amount: 0,
    bftp: { seconds: [0.15, 0.16, 0.17] },
    baseline: { seconds: [0.05, 0.06, 0.07] },
  };
  const j = judge(w);
  assert.ok(Math.abs(j.ratio - 100) < 1e-9);
  assert.equal(j.met, true);
  assert.equal(judge({ ...w, bftp: { seconds: [0.2] } }).met, false);
});

test("with the shared ceiling, baseline / shared says how close ours is", () => {
  const j = judge(get([2], [1], [1.25]));
  assert.equal(j.shared, 819.2);
  assert.equal(j.baselineToShared, 1.25);
  assert.equal(judge(get([2], [1])).shared, undefined);
  // Paired by round too: the slow second round hit both alike.
  assert.equal(judge(get([1, 1, 1], [1, 3, 1], [1.25, 3.75, 1.25])).baselineToShared, 1.25);
});

test("labels read like the issue's table", () => {
  assert.equal(workloadLabel("get", GiB, 4096), "bftp get 1 GiB");
  assert.equal(workloadLabel("put", 256 * MiB, 4096), "bftp put 256 MiB");
  assert.equal(workloadLabel("get-r", 10_000, 4096), "bftp get -r 10,000 x 4 KiB");
  assert.equal(workloadLabel("put-r", 2000, 1000), "bftp put -r 2,000 x 1000 B");
  assert.equal(workloadLabel("version", 0, 4096), "bftp --version");
});

test("alignTable pads the first column left and the rest right", () => {
  assert.equal(
    alignTable([
      ["a", "1", "xyz"],
      ["long", "100", "z"],
    ]),
    "a       1  xyz\nlong  100    z",
  );
});

test("the report: one row per workload with figure, baseline, ratio, target and verdict", () => {
  const text = formatCliReport(
    [
      get([4], [1.5]),
      {
        workload: "version",
        amount: 0,
        bftp: { seconds: [0.3] },
        baseline: { seconds: [0.08] },
      },
    ],
    4096,
    5,
  );
  const lines = text.split("\n");
  const getRow = lines.find((l) => l.startsWith("bftp get 1 GiB"));
  assert.ok(getRow);
  assert.match(getRow, /256 MiB\/s +683 MiB\/s +0\.38 +>= 0\.85 +NOT MET$/);
  const versionRow = lines.find((l) => l.startsWith("bftp --version"));
  assert.ok(versionRow);
  assert.match(versionRow, /300 ms +80 ms +\+220 ms +<= \+100 ms +NOT MET$/);
  assert.ok(text.includes("medians of 5 interleaved runs"));
  assert.ok(!text.includes("shared ceiling"));
});

test("the report adds the shared ceiling's columns when it ran", () => {
  const text = formatCliReport([get([1], [1], [1])], 4096, 3);
  assert.ok(text.includes("baseline / shared"));
  const row = text.split("\n").find((l) => l.startsWith("bftp get"));
  assert.ok(row);
  assert.match(row, /1\.00 +>= 0\.85 +met +1,024 MiB\/s +1\.00$/);
});

test("a failed workload is listed with its reason, and the others still print", () => {
  const text = formatCliReport(
    [
      {
        workload: "put",
        amount: 0,
        bftp: { seconds: [] },
        baseline: { seconds: [] },
        error: "server did not start",
      },
      get([1], [1]),
    ],
    4096,
    1,
  );
  assert.match(text, /bftp put .*failed/);
  assert.ok(text.includes("server did not start"));
  assert.match(text, /bftp get 1 GiB .* met/);
});
