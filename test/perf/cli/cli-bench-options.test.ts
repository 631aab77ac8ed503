import assert from "node:assert/strict";
import { test } from "node:test";
import {
  CLI_BENCH_USAGE,
  CLI_WORKLOADS,
  parseCliBenchArgs,
  UsageError,
} from "../../../perf/cli/cli-bench-options.js";

const MiB = 2 ** 20;

test("no arguments: the issue's sizes, every workload, five runs, /dev/shm", () => {
  const o = parseCliBenchArgs([]);
  assert.deepEqual(o.workloads, [...CLI_WORKLOADS]);
  assert.equal(o.size, 1024 * MiB);
  assert.equal(o.files, 10_000);
  assert.equal(o.fileSize, 4096);
  assert.equal(o.runs, 5);
  assert.equal(o.scratch, "/dev/shm");
  assert.equal(o.json, undefined);
  assert.equal(o.ceilings, undefined);
  assert.equal(o.help, false);
});

test("--quick shrinks the sizes and the runs", () => {
  const o = parseCliBenchArgs(["--quick"]);
  assert.equal(o.size, 256 * MiB);
  assert.equal(o.files, 2000);
  assert.equal(o.runs, 3);
});

test("explicit values win over --quick", () => {
  const o = parseCliBenchArgs(["--quick", "--size", "64MiB", "--files", "500", "--runs", "7"]);
  assert.equal(o.size, 64 * MiB);
  assert.equal(o.files, 500);
  assert.equal(o.runs, 7);
});

test("sizes take units", () => {
  assert.equal(parseCliBenchArgs(["--size", "2GiB"]).size, 2 * 1024 * MiB);
  assert.equal(parseCliBenchArgs(["--file-size", "1KiB"]).fileSize, 1024);
  assert.equal(parseCliBenchArgs(["--file-size", "100"]).fileSize, 100);
});

test("--workloads keeps the table's order and drops the rest", () => {
  const o = parseCliBenchArgs(["--workloads", "version, get-r,get"]);
  assert.deepEqual(o.workloads, ["get", "get-r", "version"]);
});

test("--json, --ceilings and --scratch are passed through", () => {
  const o = parseCliBenchArgs([
    "--json",
    "out.json",
    "--ceilings",
    "/x/ceilings",
    "--scratch",
    "/tmp",
  ]);
  assert.equal(o.json, "out.json");
  assert.equal(o.ceilings, "/x/ceilings");
  assert.equal(o.scratch, "/tmp");
});

test("-h and --help ask for the usage, which names every option", () => {
  assert.equal(parseCliBenchArgs(["-h"]).help, true);
  assert.equal(parseCliBenchArgs(["--help"]).help, true);
  for (const option of [
    "--workloads",
    "--size",
    "--files",
    "--file-size",
    "--runs",
    "--quick",
    "--scratch",
    "--ceilings",
    "--json",
  ])
    assert.ok(CLI_BENCH_USAGE.includes(option), option);
});

const mistakes: readonly (readonly string[])[] = [
  ["--workloads", "get,nope"],
  ["--runs", "0"],
  ["--runs", "1.5"],
  ["--runs", "101"],
  ["--runs", "many"],
  ["--files", "0"],
  ["--files", "-3"],
  ["--size", "0"],
  ["--size", "lots"],
  ["--size", "17GiB"],
  ["--file-size", "0"],
  ["--unknown"],
  ["positional"],
  ["--runs"],
];

for (const args of mistakes)
  test(`a usage error: ${args.join(" ")}`, () => {
    assert.throws(() => parseCliBenchArgs(args), UsageError);
  });
