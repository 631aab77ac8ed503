import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import net from "node:net";
import { test } from "node:test";
import { closedPort } from "../helpers/run-cli.js";
import { RssSampler } from "../../src/bench/rss-sampler.js";
import { findListeningPids, isLocalHost, rssOf, treeRss } from "../../src/bench/server-rss.js";

// Issue 5, item 1: `bftp bench` measures the memory of a server on this machine.
const linux = process.platform === "linux";

test("loopback names and addresses are local; others are not", () => {
  for (const host of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]", "a.localhost"]) {
    assert.equal(isLocalHost(host), true, host);
  }
  for (const host of ["192.0.2.1", "2001:db8::1", "files.example"]) {
    assert.equal(isLocalHost(host), false, host);
  }
});

test("the process that listens on a port is found from /proc", { skip: !linux }, async () => {
  const server = net.createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  try {
    const { port } = server.address() as net.AddressInfo;
    assert.deepEqual(findListeningPids(port), [process.pid]);
  } finally {
    server.close();
    await once(server, "close");
  }
});

test("a port nothing listens on finds no process", { skip: !linux }, async () => {
  const port = await closedPort();
  assert.deepEqual(findListeningPids(port), []);
});

test("a process's memory includes its children", { skip: !linux }, async () => {
  const own = rssOf(process.pid);
  assert.ok(own !== undefined && own > 1024 * 1024);
  const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 20000)"], { stdio: "ignore" });
  try {
    await once(child, "spawn");
    const pid = child.pid ?? 0;
    const tree = treeRss(process.pid);
    assert.ok(tree !== undefined);
    assert.ok(tree.processes >= 2, `processes ${tree.processes}`);
    assert.ok(tree.bytes > own, "the child's RSS is added");
    // A sampler of the child alone measures one process.
    const sampler = new RssSampler([pid], { intervalMs: 10 });
    sampler.start();
    await new Promise((resolve) => setTimeout(resolve, 60));
    sampler.stop();
    assert.ok(sampler.samples.length >= 2);
    assert.equal(sampler.processes, 1);
    assert.ok(sampler.samples.every((s) => s.bytes > 0));
    const first = sampler.samples[0];
    const last = sampler.samples[sampler.samples.length - 1];
    assert.ok(first !== undefined && last !== undefined);
    const peak = sampler.peakBetween(first.t, last.t);
    assert.equal(peak, Math.max(...sampler.samples.map((s) => s.bytes)));
  } finally {
    child.kill("SIGKILL");
  }
  assert.equal(rssOf(2 ** 30), undefined);
});
