import assert from "node:assert/strict";
import { test } from "node:test";
import { FsPool } from "../../src/server/fs-pool.js";
import type { FsJob } from "../../src/server/tree-jobs.js";

// Issue 12, item 3: the worker pool of tree transfers. A job that misses its deadline (a hung
// disk) fails with BFTP_ERR_TIMEOUT and its worker is replaced, so the next job runs; the
// queue is bounded (BFTP_ERR_BUSY); jobs of one worker run in order.

const WORKER = new URL("../fixtures/stall-worker.js", import.meta.url);
const stall = { op: "stall" } as unknown as FsJob;
const echo = (value: unknown): FsJob => ({ op: "echo", value }) as unknown as FsJob;

test("a job that misses its deadline fails with BFTP_ERR_TIMEOUT; a fresh worker runs the next", async () => {
  const pool = new FsPool({ size: 1, workerUrl: WORKER });
  try {
    await assert.rejects(pool.run(stall, 50), { code: "BFTP_ERR_TIMEOUT" });
    assert.equal(await pool.run(echo("after"), 5000), "after");
  } finally {
    await pool.close();
  }
});

test("a hung job fails only itself: jobs queued behind it run on the replacement", async () => {
  const pool = new FsPool({ size: 1, workerUrl: WORKER });
  try {
    const hung = pool.run(stall, 50);
    const queued = [pool.run(echo(1), 5000), pool.run(echo(2), 5000)];
    await assert.rejects(hung, { code: "BFTP_ERR_TIMEOUT" });
    assert.deepEqual(await Promise.all(queued), [1, 2]);
  } finally {
    await pool.close();
  }
});

test("the queue is bounded: past maxQueued, jobs are refused with BFTP_ERR_BUSY", async () => {
  const pool = new FsPool({ size: 1, maxQueued: 2, workerUrl: WORKER });
  try {
    const running = pool.run(stall, 200); // takes the only worker
    const waiting = [pool.run(echo("a"), 5000), pool.run(echo("b"), 5000)];
    await assert.rejects(pool.run(echo("c"), 5000), { code: "BFTP_ERR_BUSY" });
    await assert.rejects(running, { code: "BFTP_ERR_TIMEOUT" });
    assert.deepEqual(await Promise.all(waiting), ["a", "b"]);
  } finally {
    await pool.close();
  }
});

test("with every worker given up as hung and maxHung reached, jobs fail with BFTP_ERR_BUSY", async () => {
  // maxHung 0: a worker given up is never replaced, as when hung threads have piled up.
  const pool = new FsPool({ size: 1, maxHung: 0, workerUrl: WORKER });
  try {
    const first = pool.run(stall, 50);
    const behind = pool.run(echo("x"), 5000);
    await assert.rejects(first, { code: "BFTP_ERR_TIMEOUT" });
    await assert.rejects(behind, { code: "BFTP_ERR_BUSY" });
  } finally {
    await pool.close();
  }
});

test("many jobs on a pool of two all answer, each with its own result", async () => {
  const pool = new FsPool({ size: 2, workerUrl: WORKER });
  try {
    const values = Array.from({ length: 200 }, (_, i) => i);
    assert.deepEqual(await Promise.all(values.map((v) => pool.run(echo(v), 5000))), values);
  } finally {
    await pool.close();
  }
});
