import assert from "node:assert/strict";
import fs from "node:fs/promises";
import path from "node:path";
import { after, before, test } from "node:test";
import type { BenchReport } from "../../src/bench/bench-report.js";
import { testData } from "../../src/bench/test-data.js";
import { jsonOf, runCli } from "../helpers/run-cli.js";
import { serveTempFolder, type ServedFolder } from "../helpers/serve-temp.js";

// Issue 5, item 1: `bftp bench` against a local `bftp serve`: the table, the JSON, the HTML
// report, the server's memory, and the cleanup.

let folder: ServedFolder;

before(async () => {
  folder = await serveTempFolder("bftp-cli-bench");
});

after(() => folder.stop());

const SIZES = [0, 1, 4096, 100 * 1024];

test("--json reports every size with consistent counts, and the folder is removed", async () => {
  const report = path.join(folder.base, "report.html");
  const args = ["bench", "--json", "--sizes", "0,1,4KiB,100KiB", "--iterations", "3"];
  const result = await runCli(
    [...args, "--concurrency", "2", "--seed", "42", "--report", report, folder.url],
    {
      timeout: 60_000,
    },
  );
  assert.equal(result.code, 0, result.stderr);
  const doc = jsonOf(result) as unknown as BenchReport;
  assert.equal(doc.ok, true);
  assert.deepEqual(doc.parameters.sizes, SIZES);
  assert.equal(doc.parameters.seed, 42);
  assert.equal(doc.parameters.concurrency, 2);
  assert.deepEqual(
    doc.results.map((r) => r.size),
    SIZES,
  );
  for (const r of doc.results) {
    assert.equal(r.iterations.length, 3, r.label);
    assert.equal(r.downloads, 6, r.label);
    assert.equal(r.errors, 0, r.label);
    assert.equal(r.bytesVerified, r.size * 3 * 2, r.label);
    if (r.size === 0) assert.equal(r.mbps, null);
    else {
      assert.ok(r.mbps !== null);
      assert.ok(
        r.mbps.min <= r.mbps.median && r.mbps.median <= r.mbps.p95 && r.mbps.p95 <= r.mbps.max,
      );
      assert.equal(r.mbps.count, 3);
      assert.ok(r.mbps.cv >= 0);
      // Each iteration's rate is its bytes (both clients) over its wall time.
      for (const it of r.iterations) {
        assert.ok(
          Math.abs((it.mbps ?? 0) - (2 * r.size) / 1e6 / (it.ms / 1000)) < 1e-6 * (it.mbps ?? 1),
        );
      }
    }
    // files/s for sizes up to 64 KiB only.
    assert.equal(r.filesPerSecond === null, r.size > doc.parameters.smallFileMax, r.label);
    assert.ok(r.cpuSeconds >= 0);
    assert.ok(r.serverRss !== null, "a local server's memory is measured");
    assert.ok(r.serverRss.peak >= r.serverRss.start && r.serverRss.peak >= r.serverRss.end);
  }
  assert.equal(doc.totals.downloads, 24);
  assert.equal(
    doc.totals.bytesVerified,
    SIZES.reduce((a, s) => a + s * 6, 0),
  );
  assert.equal(doc.totals.errors, 0);
  assert.deepEqual(doc.failures, []);
  assert.ok(doc.serverMemory.measured);
  assert.deepEqual(doc.serverMemory.pids, [folder.serve.child.pid]);
  assert.equal(doc.serverMemory.source, "listening socket");
  assert.ok(doc.serverMemory.samples.length >= 2);
  assert.equal(doc.serverMemory.marks.length, SIZES.length);
  assert.ok(doc.serverMemory.overall.start > 1024 * 1024);
  assert.deepEqual(doc.cleanup, { removed: true });
  assert.match(doc.parameters.folder, /^\/bftp-bench-[0-9a-f]{12}$/);
  assert.deepEqual(await fs.readdir(folder.served), [], "the bench folder is gone");

  const html = await fs.readFile(report, "utf8");
  const svgs = html.split("<svg").slice(1);
  assert.equal(svgs.length, 3, "throughput, small files, memory");
  const circles = (svg: string): number => svg.split("</svg>")[0]?.split("<circle").length ?? 0;
  assert.equal(circles(svgs[0] ?? "") - 1, 3 * 3, "a point per iteration of each non-empty size");
  assert.equal(circles(svgs[1] ?? "") - 1, 3 * 3, "files/s of 0 B, 1 B and 4 KiB");
  assert.equal(circles(svgs[2] ?? "") - 1, doc.serverMemory.samples.length);
  assert.match(html, /<polyline points="[\d., ]+"/);
  assert.doesNotMatch(html, /https?:|<script|<[^>]*\ssrc=|url\(|<link|@import/i, "self-contained");
  assert.match(html, /<table>/);
});

test("without --json a table goes to stdout, one row per size", async () => {
  const result = await runCli(["bench", "--sizes", "1,64KiB", "--iterations", "2", folder.url], {
    timeout: 60_000,
  });
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.split("\n");
  const head = lines[0] ?? "";
  for (const column of [
    "size",
    "MB/s min",
    "median",
    "p95",
    "max",
    "CV",
    "files/s",
    "CPU s/GiB",
    "RSS start",
    "errors",
  ]) {
    assert.ok(head.includes(column), column);
  }
  assert.match(lines[1] ?? "", /^1 B\s.*\s0\/2$/);
  assert.match(lines[2] ?? "", /^64 KiB\s.*\s0\/2$/);
  assert.match(
    result.stdout,
    /^verified 128 KiB in 4 downloads \(2 iterations x 1 client\), 0 failed$/m,
  );
  assert.match(result.stdout, new RegExp(`^server RSS \\(pid ${folder.serve.child.pid}, `, "m"));
  assert.match(result.stdout, /^removed \/bftp-bench-[0-9a-f]+ from the server/m);
  assert.equal(result.stderr, "", "no progress off a terminal");
  assert.deepEqual(await fs.readdir(folder.served), []);
});

test("--keep leaves the test files, inside the folder the location names", async () => {
  await fs.mkdir(path.join(folder.served, "sub"));
  const result = await runCli([
    "bench",
    "--json",
    "--keep",
    "--seed",
    "9",
    "--sizes",
    "3000",
    "--iterations",
    "1",
    `${folder.url}/sub`,
  ]);
  assert.equal(result.code, 0, result.stderr);
  const doc = jsonOf(result) as unknown as BenchReport;
  assert.match(doc.parameters.folder, /^\/sub\/bftp-bench-/);
  assert.deepEqual(doc.cleanup, { removed: false });
  const kept = await fs.readFile(path.join(folder.served, doc.parameters.folder, "3000"));
  const expected: Buffer[] = [];
  for await (const chunk of testData(9, 3000)) expected.push(chunk as Buffer);
  assert.ok(kept.equals(Buffer.concat(expected)), "the uploaded bytes are the seed's test bytes");
  await fs.rm(path.join(folder.served, "sub"), { recursive: true });
});

test("a --workers server's memory is the primary's and its workers', summed", async () => {
  const workers = await serveTempFolder("bftp-cli-bench-workers", ["--workers", "2"]);
  try {
    const result = await runCli(
      ["bench", "--json", "--sizes", "1KiB", "--iterations", "2", workers.url],
      {
        timeout: 60_000,
      },
    );
    assert.equal(result.code, 0, result.stderr);
    const doc = jsonOf(result) as unknown as BenchReport;
    assert.ok(doc.serverMemory.measured);
    assert.deepEqual(
      doc.serverMemory.pids,
      [workers.serve.child.pid],
      "the primary holds the socket",
    );
    assert.equal(doc.serverMemory.processes, 3, "the primary and two workers");
    assert.deepEqual(await fs.readdir(workers.served), []);
  } finally {
    await workers.stop();
  }
});

test("BFTP_PROGRESS=1 draws progress on stderr; stdout keeps only the table", async () => {
  const result = await runCli(["bench", "--sizes", "1,1MiB", "--iterations", "2", folder.url], {
    env: { BFTP_PROGRESS: "1" },
    timeout: 60_000,
  });
  assert.equal(result.code, 0, result.stderr);
  // rate() prints decimals below 100 files/s (a loaded machine gets there): any of its forms.
  assert.match(result.stderr, /^1 B: 2\/2 verified, median [\d.]+ MB\/s, [\d.]+k? files\/s$/m);
  assert.match(result.stderr, /^1 MiB: 2\/2 verified, median [\d.]+ MB\/s$/m);
  assert.match(result.stderr, /total \d+\/6 files/);
  assert.match(result.stdout, /^size +MB\/s min/);
  assert.doesNotMatch(result.stdout, /verified, median|total \d+\/6/);
});
