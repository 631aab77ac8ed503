import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { test } from "node:test";
import { MemorySampler } from "../../../perf/compare/memory-sampler.js";
import { kbField, treeMemory, treePids } from "../../../perf/compare/process-tree.js";

const MB = 1e6;

test("kbField reads a kB field of /proc/PID/status in bytes", () => {
  const status = "Name:\tnode\nVmPeak:\t  2000 kB\nVmRSS:\t   1234 kB\nThreads:\t7\n";
  assert.equal(kbField(status, "VmRSS"), 1234 * 1024);
  assert.equal(kbField(status, "Pss"), 0);
});

/**
 * A parent that forks a child holding `mb` MB of touched memory, like a server forking a
 * session; prints "ready" once the child has its memory.
 */
function forkingParent(mb: number) {
  const child = `const b = Buffer.alloc(${mb} * 1e6, 1); process.stdout.write("ready\\n"); setInterval(() => b[0]++, 1000);`;
  const parent = `const c = require("node:child_process").spawn(process.execPath, ["-e", ${JSON.stringify(child)}], { stdio: ["ignore", "inherit", "inherit"] }); setInterval(() => {}, 1000);`;
  return spawn(process.execPath, ["-e", parent], { stdio: ["ignore", "pipe", "inherit"] });
}

test("the tree's memory counts a forked child's memory with the parent's", async () => {
  const parent = forkingParent(80);
  let child = -1;
  try {
    await once(parent.stdout, "data");
    const pid = parent.pid ?? -1;
    const pids = treePids(pid);
    assert.equal(pids.length, 2, "parent and child");
    assert.equal(pids[0], pid);
    child = pids[1] ?? -1;
    const memory = treeMemory(pid);
    assert.equal(memory.processes, 2);
    assert.ok(memory.rss > 80 * MB, `RSS ${memory.rss} counts the child's 80 MB`);
    assert.ok(memory.pss > 80 * MB, `PSS ${memory.pss} counts the child's 80 MB`);
    const alone = treeMemory(child);
    assert.equal(alone.processes, 1);
    const again = treeMemory(pid);
    assert.ok(again.rss > alone.rss + 10 * MB, "the parent (a Node process) adds its own");
  } finally {
    if (child > 0) process.kill(child, "SIGKILL"); // the grandchild we started, by PID
    parent.kill("SIGKILL");
    await once(parent, "exit");
  }
});

test("the sampler keeps the peak after the memory is gone", async () => {
  const parent = forkingParent(60);
  const pid = parent.pid ?? -1;
  const sampler = await MemorySampler.start(pid, 10);
  await once(parent.stdout, "data");
  await new Promise((resolve) => setTimeout(resolve, 300)); // several samples, even when busy
  const [, child] = treePids(pid);
  process.kill(child ?? -1, "SIGKILL"); // the child we started, by PID
  parent.kill("SIGKILL");
  await once(parent, "exit");
  const peak = await sampler.stop();
  assert.ok(peak.peakRss > 60 * MB, `peak ${peak.peakRss}`);
  assert.equal(peak.peakProcesses, 2);
  assert.equal(peak.last.rss, 0, "nothing is left after both exited");
  assert.ok(peak.samples >= 3, `${peak.samples} samples`);
});
