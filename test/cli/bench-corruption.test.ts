import assert from "node:assert/strict";
import fs from "node:fs/promises";
import { after, before, test } from "node:test";
import type { BenchReport } from "../../src/bench/bench-report.js";
import { FaultProxy } from "../battery/fault-proxy.js";
import { CrcBlindProxy } from "../helpers/crc-blind-proxy.js";
import { jsonOf, runCli } from "../helpers/run-cli.js";
import { serveTempFolder, type ServedFolder } from "../helpers/serve-temp.js";

// Issue 5, item 1: `bftp bench` verifies every byte; damaged downloads fail the run with
// BFTP_ERR_VERIFY_FAILED and exit 1, and the files are still removed.

let folder: ServedFolder;

before(async () => {
  folder = await serveTempFolder("bftp-cli-bench-bad");
});

after(() => folder.stop());

test("damage that CRC-32 cannot see is found by the byte comparison", async () => {
  const proxy = await CrcBlindProxy.start(folder.serve.port);
  try {
    const pid = String(folder.serve.child.pid);
    const args = [
      "bench",
      "--json",
      "--sizes",
      "1,4KiB,100KiB",
      "--iterations",
      "2",
      "--server-pid",
      pid,
    ];
    const result = await runCli([...args, `bftp://127.0.0.1:${proxy.port}`], { timeout: 60_000 });
    assert.equal(result.code, 1, result.stderr);
    const doc = jsonOf(result) as unknown as BenchReport;
    assert.equal(doc.ok, false);
    assert.equal(doc.error?.code, "BFTP_ERR_VERIFY_FAILED");
    assert.equal(proxy.damaged, 4, "4 KiB and 100 KiB, twice each (1 B is too short to damage)");
    assert.equal(doc.failures.length, 4);
    for (const f of doc.failures) {
      assert.equal(f.code, "BFTP_ERR_VERIFY_FAILED");
      assert.equal(f.offset, 0, "the first damaged byte");
    }
    assert.deepEqual(
      doc.results.map((r) => [r.size, r.errors, r.bytesVerified]),
      [
        [1, 0, 2],
        [4096, 2, 0],
        [102400, 2, 0],
      ],
    );
    assert.equal(doc.results[1]?.mbps, null, "no figures from downloads that failed");
    // --server-pid measures the server behind the proxy, not the proxy that listens.
    assert.ok(doc.serverMemory.measured);
    assert.deepEqual(doc.serverMemory.pids, [folder.serve.child.pid]);
    assert.equal(doc.serverMemory.source, "--server-pid");
    assert.deepEqual(doc.cleanup, { removed: true });
    assert.deepEqual(await fs.readdir(folder.served), []);
  } finally {
    await proxy.close();
  }
});

test("without --json the failure is one line per download and the code, on stderr", async () => {
  const proxy = await CrcBlindProxy.start(folder.serve.port);
  try {
    const result = await runCli([
      "bench",
      "--sizes",
      "4KiB",
      "--iterations",
      "1",
      `bftp://127.0.0.1:${proxy.port}`,
    ]);
    assert.equal(result.code, 1);
    assert.match(result.stdout, /^4 KiB\s.*\s1\/1$/m, "the table still shows the run");
    assert.match(result.stderr, /\(BFTP_ERR_VERIFY_FAILED\)\n$/);
    assert.deepEqual(await fs.readdir(folder.served), []);
  } finally {
    await proxy.close();
  }
});

test("a flipped byte the transfer check catches fails the run the same way", async () => {
  const proxy = await FaultProxy.start(folder.serve.port);
  // Frames from the server: HELLO, MKDIR and PUT replies, the GET reply, then (frame 4) the
  // first data frame: flip its payload's byte 100 (8 header bytes first).
  proxy.next = { direction: "down", kind: "flip", at: 108, fromFrame: 4 };
  try {
    const result = await runCli(
      ["bench", "--json", "--sizes", "4KiB", "--iterations", "2", `bftp://127.0.0.1:${proxy.port}`],
      { timeout: 60_000 },
    );
    assert.equal(result.code, 1, result.stderr);
    const doc = jsonOf(result) as unknown as BenchReport;
    assert.equal(doc.error?.code, "BFTP_ERR_VERIFY_FAILED");
    assert.deepEqual(
      doc.failures.map((f) => [f.code, f.iteration]),
      [["BFTP_ERR_CHECKSUM_MISMATCH", 1]],
    );
    assert.equal(doc.results[0]?.bytesVerified, 4096, "the second iteration verified");
    assert.deepEqual(await fs.readdir(folder.served), []);
  } finally {
    await proxy.close();
  }
});
