// Acceptance (the protocol is specified well enough): "A test client in the suite that is written from
// PROTOCOL.md alone against raw sockets (not the project's client library) completes hello,
// LIST, GET, PUT, RENAME, DELETE." The client is test/fixtures/raw_client.py, Python 3
// standard library only; it shares no code with the project. This file runs it against a
// real server and checks what it reports and what it left on disk.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import type { ServerLimits } from "../../src/server/limits.js";
import { startServer } from "../helpers/bftp-server.js";

/** The fixture lives in the source tree, three levels above dist/test/server. */
const CLIENT = fileURLToPath(new URL("../../../test/fixtures/raw_client.py", import.meta.url));
const DEADLINE_MS = 30_000;
const FILE_SIZE = 300_000; // raw_client.py's FILE_SIZE

/** One step the client reports: its name, whether it passed, and what it saw. */
interface Step {
  readonly step: string;
  readonly ok: boolean;
  readonly [field: string]: unknown;
}

/** The one JSON line the client prints. */
interface ClientReport {
  readonly ok: boolean;
  readonly steps: readonly Step[];
  readonly error: string | null;
  readonly spec_mismatches: readonly string[];
}

/** What one run of the client left behind. */
interface ClientRun {
  readonly report: ClientReport;
  readonly status: number | null;
  readonly stderr: string;
  readonly workdir: string;
}

/**
 * Runs the Python client against a fresh server with `limits`; the child is killed (by its
 * own handle) if it outlives the deadline. The server and its folders are removed by `after`.
 */
async function runClient(
  t: { after: (fn: () => Promise<unknown>) => void },
  limits: Partial<ServerLimits> = {},
): Promise<ClientRun & { root: string; connections: () => number }> {
  const srv = await startServer(limits);
  t.after(() => srv.stop());
  const workdir = await fs.mkdtemp(path.join(os.tmpdir(), "bftp-raw-client-"));
  t.after(() => fs.rm(workdir, { recursive: true, force: true }));

  const child = spawn("python3", [CLIENT, "127.0.0.1", String(srv.port), workdir], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  child.stdout.on("data", (text: string) => (stdout += text));
  child.stderr.on("data", (text: string) => (stderr += text));
  let timer: NodeJS.Timeout | undefined;
  const status = await new Promise<number | null>((resolve, reject) => {
    timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`raw_client.py did not finish in ${DEADLINE_MS} ms\nstderr:\n${stderr}`));
    }, DEADLINE_MS);
    child.once("error", reject);
    child.once("close", (code) => {
      resolve(code);
    });
  }).finally(() => {
    clearTimeout(timer);
  });

  const lastLine = stdout.trim().split("\n").at(-1) ?? "";
  let report: ClientReport;
  try {
    report = JSON.parse(lastLine) as ClientReport;
  } catch {
    throw new Error(`raw_client.py printed no JSON line\nstdout:\n${stdout}\nstderr:\n${stderr}`);
  }
  return {
    report,
    status,
    stderr,
    workdir,
    root: srv.root,
    connections: () => srv.server.connections,
  };
}

function stepNamed(report: ClientReport, name: string): Step {
  const step = report.steps.find((s) => s.step === name);
  assert.ok(step, `the client reported no step ${JSON.stringify(name)}: ${JSON.stringify(report)}`);
  return step;
}

/** Polls until the server has noticed the client left; bounded. */
async function untilNoConnections(connections: () => number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (connections() > 0) {
    assert.ok(Date.now() < deadline, "the server still counts the client's connection");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test("a client written from PROTOCOL.md alone completes hello, PUT, LIST, GET, RENAME, DELETE", async (t) => {
  const run = await runClient(t);
  assert.equal(run.report.error, null, `the client failed: ${JSON.stringify(run.report)}`);
  assert.equal(run.report.ok, true);
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(
    run.report.steps.map((s) => [s.step, s.ok]),
    [
      "hello",
      "pwd",
      "put",
      "list",
      "put_exists",
      "get",
      "get_range",
      "hash",
      "rename",
      "stat_after_rename",
      "delete",
      "list_after_delete",
      "quit",
    ].map((name) => [name, true]),
  );
  assert.ok(Number(stepNamed(run.report, "put")["frames"]) > 1, "the upload used several frames");
  assert.equal(stepNamed(run.report, "get")["bytes"], FILE_SIZE);
  assert.equal(stepNamed(run.report, "put_exists")["code"], "BFTP_ERR_EXISTS");

  // What it downloaded is what it uploaded, byte for byte.
  const [sent, got] = await Promise.all([
    fs.readFile(path.join(run.workdir, "upload.bin")),
    fs.readFile(path.join(run.workdir, "download.bin")),
  ]);
  assert.equal(sent.length, FILE_SIZE);
  assert.ok(sent.equals(got), "the downloaded file differs from the uploaded one");

  // It deleted what it created and left no temporary file; QUIT closed the session.
  assert.deepEqual(await fs.readdir(run.root), []);
  await untilNoConnections(run.connections);
});

test("the client obeys the maxChunk HELLO announces and reads a download in many frames", async (t) => {
  const maxChunk = 16 * 1024;
  const run = await runClient(t, { maxChunk });
  assert.equal(run.report.error, null, `the client failed: ${JSON.stringify(run.report)}`);
  assert.equal(stepNamed(run.report, "put")["frames"], Math.ceil(FILE_SIZE / maxChunk));
  assert.ok(Number(stepNamed(run.report, "get")["frames"]) >= Math.ceil(FILE_SIZE / maxChunk));
  assert.equal(stepNamed(run.report, "get")["bytes"], FILE_SIZE);
  assert.deepEqual(await fs.readdir(run.root), []);
});

// Found while writing raw_client.py: PROTOCOL.md once named `readAhead` (a request count)
// where the server sends `readAheadBytes`; the spec was fixed. The client checks that HELLO
// carries every limit §8.1 names, so the two cannot drift apart again.
test("HELLO reports every limit PROTOCOL.md §8.1 names", async (t) => {
  const run = await runClient(t);
  assert.equal(run.report.error, null, `the client failed: ${JSON.stringify(run.report)}`);
  assert.deepEqual(run.report.spec_mismatches, []);
});
