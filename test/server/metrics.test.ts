// Issue 15, item 4: `bftp serve --metrics HOST:PORT` serves Prometheus metrics at /metrics
// (fetched here with curl, as an operator would), and every transfer is one JSON log line.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { after, before, test } from "node:test";
import { BftpClient } from "../../src/client/client.js";
import { isBftpError } from "../../src/errors.js";
import { spawnServe, type ServeProcess } from "../helpers/spawn-serve.js";
import { waitUntil } from "../helpers/wait-until.js";

let base: string;
let serve: ServeProcess;
let metricsUrl: string;

before(async () => {
  base = await fs.mkdtemp(path.join(os.tmpdir(), "bftp-metrics-"));
  serve = await spawnServe(path.join(base, "files"), ["--metrics", "127.0.0.1:0"]);
  await waitUntil(
    () => serve.stdout.some((l) => l.startsWith("metrics on ")),
    "metrics line",
    10_000,
  );
  const line = serve.stdout.find((l) => l.startsWith("metrics on ")) ?? "";
  const match = /^metrics on 127\.0\.0\.1:(\d+)$/.exec(line);
  assert.ok(match !== null, line);
  metricsUrl = `http://127.0.0.1:${match[1]}/metrics`;
});
after(async () => {
  await serve.stop();
  await fs.rm(base, { recursive: true, force: true });
});

async function curl(url: string): Promise<{ status: number; body: string }> {
  const { stdout } = await promisify(execFile)("curl", ["-s", "-w", "\n%{http_code}", url]);
  const at = stdout.lastIndexOf("\n");
  return { status: Number(stdout.slice(at + 1)), body: stdout.slice(0, at) };
}

/** Every sample of the metrics page, by name and labels as written ("name{a="b"}"). */
async function samples(): Promise<Map<string, number>> {
  const { status, body } = await curl(metricsUrl);
  assert.equal(status, 200);
  const out = new Map<string, number>();
  for (const line of body.split("\n")) {
    if (line.startsWith("#") || line === "") continue;
    const at = line.lastIndexOf(" ");
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

function moved(before: Map<string, number>, after: Map<string, number>, key: string): number {
  return (after.get(key) ?? 0) - (before.get(key) ?? 0);
}

function connect(): Promise<BftpClient> {
  return BftpClient.connect({ host: "127.0.0.1", port: serve.port });
}

test("the counters move with a PUT and a GET: transfers, bytes, durations, sessions", async () => {
  const data = randomBytes(3 * 1024 * 1024 + 17);
  const local = path.join(base, "up.bin");
  await fs.writeFile(local, data);
  const start = await samples();
  const client = await connect();
  // During the session: one connection open.
  const during = await samples();
  assert.equal(during.get('bftp_connections_open{front="bftp"}'), 1);
  await client.upload(local, "/up.bin");
  await client.download("/up.bin", path.join(base, "down.bin"));
  await client.close();
  assert.equal(
    createHash("sha256")
      .update(await fs.readFile(path.join(base, "down.bin")))
      .digest("hex"),
    createHash("sha256").update(data).digest("hex"),
  );
  const put = 'front="bftp",direction="put"';
  const get = 'front="bftp",direction="get"';
  // The server counts a GET once its last write is flushed, which can be just after the
  // client has read it all: asked again until it shows (5 s at most).
  let end = await samples();
  for (
    let i = 0;
    i < 50 && moved(start, end, `bftp_transfers_total{${get},outcome="ok"}`) < 1;
    i++
  ) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    end = await samples();
  }
  assert.equal(moved(start, end, `bftp_transfers_total{${put},outcome="ok"}`), 1);
  assert.equal(moved(start, end, `bftp_transfers_total{${get},outcome="ok"}`), 1);
  assert.equal(moved(start, end, `bftp_transfer_bytes_total{${put}}`), data.length);
  assert.equal(moved(start, end, `bftp_transfer_bytes_total{${get}}`), data.length);
  assert.equal(moved(start, end, `bftp_transfer_duration_seconds_count{${put}}`), 1);
  assert.equal(moved(start, end, 'bftp_connections_total{front="bftp"}'), 1);
  assert.equal(moved(start, end, 'bftp_sessions_total{front="bftp"}'), 1);
  assert.ok((end.get("bftp_process_resident_memory_bytes") ?? 0) > 0, "process metrics are served");
});

test("an error is counted by its code", async () => {
  const start = await samples();
  const client = await connect();
  await assert.rejects(client.stat("/missing"), (err) => isBftpError(err, "BFTP_ERR_NOT_FOUND"));
  await client.close();
  const end = await samples();
  assert.equal(moved(start, end, 'bftp_errors_total{front="bftp",code="BFTP_ERR_NOT_FOUND"}'), 1);
});

test("each transfer is exactly one JSON log line with its bytes and outcome", async () => {
  const local = path.join(base, "logged.bin");
  await fs.writeFile(local, randomBytes(123_457));
  const client = await connect();
  await client.upload(local, "/logged.bin");
  await client.close();
  const lines = (): Record<string, unknown>[] =>
    serve.stderr
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l["event"] === "transfer" && l["path"] === "/logged.bin");
  await waitUntil(() => lines().length > 0, "the transfer line", 5000);
  assert.equal(lines().length, 1);
  const [line] = lines();
  assert.deepEqual(
    {
      front: line?.["front"],
      direction: line?.["direction"],
      kind: line?.["kind"],
      bytes: line?.["bytes"],
      result: line?.["result"],
      level: line?.["level"],
    },
    { front: "bftp", direction: "put", kind: "file", bytes: 123_457, result: "ok", level: "info" },
  );
  assert.equal(typeof line?.["ms"], "number");
  assert.equal(typeof line?.["time"], "string");
});

test("other paths are 404", async () => {
  assert.equal((await curl(metricsUrl.replace("/metrics", "/other"))).status, 404);
});
