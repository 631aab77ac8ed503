/**
 * P3 (issue 6): a directory swapped for a symbolic link in a tight loop, on a worker thread,
 * while clients GET and PUT beneath it. `root/swap` flips between a real directory and a link
 * to `outside/race`, which holds files with the same names as the inside ones, full of a
 * marker. Passing: the marker never reaches a client (no byte read outside), and the outside
 * folder is exactly as it was (no byte written outside). The same race, command by command,
 * is test/server/hostile-swap-race.test.ts; this one runs it for a fixed time, concurrently.
 */
import { once } from "node:events";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { snapshotTree } from "../fixtures/tree-snapshot.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection } from "../helpers/protocol-connection.js";
import type { BatterySize, Check, CheckResult } from "./check.js";

/** Concurrent clients, each alternating GET and PUT beneath the swapped directory. */
const CLIENTS = 4;
/** Size of the files read and written: big enough that a transfer spans several swaps. */
const FILE_SIZE = 64 * 1024;

/**
 * The swapper: four renames a round (a link cannot be renamed over a directory), counting
 * rounds in slot 1, until slot 0 is set; it always finishes a round, so `swap` is the
 * directory again when it stops.
 */
const SWAPPER = `
const { workerData } = require("node:worker_threads");
const fs = require("node:fs");
const path = require("node:path");
const shared = new Int32Array(workerData.flag);
const at = (name) => path.join(workerData.root, name);
while (Atomics.load(shared, 0) === 0) {
  fs.renameSync(at("swap"), at("parked-dir"));
  fs.renameSync(at("parked-link"), at("swap"));
  fs.renameSync(at("swap"), at("parked-link"));
  fs.renameSync(at("parked-dir"), at("swap"));
  Atomics.add(shared, 1, 1);
}
`;

/** Replies seen, by command and code. */
type Counts = Map<string, number>;

function count(counts: Counts, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

/** Plants `swap/` (inside) and `parked-link` → `outside/race` with marked look-alikes. */
async function plant(srv: TestServer, marker: string): Promise<void> {
  const race = path.join(srv.outside, "race");
  await fs.mkdir(race);
  const marked = Buffer.alloc(FILE_SIZE, `${marker}\n`);
  for (const name of ["victim.txt", "outside-only.txt", "put-0-0.txt"]) {
    await fs.writeFile(path.join(race, name), marked);
  }
  await fs.mkdir(path.join(srv.root, "swap"));
  await fs.writeFile(path.join(srv.root, "swap", "victim.txt"), Buffer.alloc(FILE_SIZE, "in\n"));
  await fs.symlink(race, path.join(srv.root, "parked-link"));
}

/** One client's loop until `until`: GET, PUT (new and overwrite), GET of an outside-only name. */
async function client(
  srv: TestServer,
  c: number,
  until: number,
  marker: string,
  counts: Counts,
  leaks: string[],
): Promise<void> {
  const conn = await ProtocolConnection.open(srv.port);
  const upload = Buffer.alloc(FILE_SIZE, `client ${c}\n`);
  try {
    for (let n = 0; Date.now() < until; n++) {
      const name = n % 2 === 0 ? "swap/victim.txt" : "swap/outside-only.txt";
      const got = await conn.get(name);
      count(counts, `GET ${got.reply.ok ? "ok" : (got.reply.error?.code ?? "?")}`);
      const wire = Buffer.concat([
        Buffer.from(JSON.stringify(got.reply)),
        got.data ?? Buffer.alloc(0),
        Buffer.from(JSON.stringify(got.trailer ?? {})),
      ]);
      if (wire.includes(marker)) leaks.push(`GET ${name} #${n} of client ${c} read outside`);
      const target = n % 3 === 0 ? "swap/victim.txt" : `swap/put-${c}-${n % 4}.txt`;
      const put = await conn.put(target, upload, { overwrite: true });
      count(counts, `PUT ${put.ok ? "ok" : (put.error?.code ?? "?")}`);
      if (put["close"] === true) throw new Error(`PUT closed the connection`);
    }
  } finally {
    conn.close();
  }
}

async function stopSwapper(worker: Worker, shared: Int32Array): Promise<void> {
  const exited = once(worker, "exit");
  Atomics.store(shared, 0, 1);
  const timer = setTimeout(() => void worker.terminate(), 5000);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

function summary(counts: Counts, op: string): string {
  const parts = [...counts].filter(([k]) => k.startsWith(op)).sort((a, b) => b[1] - a[1]);
  const total = parts.reduce((sum, [, n]) => sum + n, 0);
  const each = parts.map(([k, n]) => `${k.slice(op.length + 1).replace("BFTP_ERR_", "")} ${n}`);
  return `${total} ${op} (${each.join(", ")})`;
}

async function run(size: BatterySize): Promise<CheckResult> {
  if (!existsSync("/proc/self/fd")) return { pass: true, figure: "skipped: needs Linux" };
  const seconds = size === "full" ? 20 : 2;
  const marker = `bftp-swap-race-${randomUUID()}`;
  const srv = await startServer();
  const shared = new Int32Array(new SharedArrayBuffer(8));
  let worker: Worker | undefined;
  const counts: Counts = new Map();
  const leaks: string[] = [];
  try {
    await plant(srv, marker);
    const outsideBefore = await snapshotTree(srv.outside);
    worker = new Worker(SWAPPER, {
      eval: true,
      workerData: { root: srv.root, flag: shared.buffer },
    });
    const until = Date.now() + seconds * 1000;
    const clients = Array.from({ length: CLIENTS }, (_v, c) =>
      client(srv, c, until, marker, counts, leaks),
    );
    const settled = await Promise.allSettled(clients);
    const running = worker;
    worker = undefined;
    await stopSwapper(running, shared);
    const errors = settled.filter((s) => s.status === "rejected").length;
    const outsideNow = await snapshotTree(srv.outside);
    const changed = outsideNow.filter((e) => !outsideBefore.includes(e));
    const gone = outsideBefore.filter((e) => !outsideNow.includes(e));
    const untouched = changed.length === 0 && gone.length === 0;
    const content = await fs.readFile(path.join(srv.outside, "race", "victim.txt"), "utf8");
    const contentKept = content === Buffer.alloc(FILE_SIZE, `${marker}\n`).toString("utf8");
    const pass = leaks.length === 0 && untouched && contentKept && errors === 0;
    const figure =
      `${seconds} s, ${Atomics.load(shared, 1)} swap rounds, ${CLIENTS} clients: ` +
      `${summary(counts, "GET")}, ${summary(counts, "PUT")}; ` +
      `marker ${leaks.length === 0 ? "never received" : `received ${leaks.length}× (${leaks[0] ?? ""})`}; ` +
      `outside ${untouched && contentKept ? "unchanged" : `CHANGED ${JSON.stringify([...changed, ...gone]).slice(0, 200)}`}` +
      (errors === 0 ? "" : `; ${errors} clients failed`);
    return { pass, figure };
  } finally {
    if (worker !== undefined) await stopSwapper(worker, shared).catch(() => undefined);
    await srv.stop();
  }
}

/** P3: a directory swapped for a link while clients GET and PUT beneath it. */
export const P3_SWAP_RACE: Check = {
  id: "P3",
  title: "directory swapped for a symlink under GET/PUT",
  run,
};
