// A directory swapped for a symbolic link *while* commands run (issue 3's "a directory swapped
// for a symlink", raced rather than planted). Someone with write access to the root flips
// `swap` between a real directory and a link to a folder outside, in a tight loop on another
// thread, while one client sends commands through `swap/...`. The sandbox resolves a path,
// then the command acts on it: if the swap lands between the two, the act must still not
// reach outside. GET and HASH re-check the opened descriptor (Sandbox.verifyOpened); every
// command is held to the same standard: nothing outside is read, listed, written or removed.
//
// Regression for the race this file found: every command but GET and HASH used to act on the
// resolved path string after the check, so a swap in between let STAT, LIST, DELETE, RENAME,
// MKDIR, RMDIR and PUT reach the outside folder. Commands now act only through a descriptor
// checked via /proc/self/fd (Sandbox.openInside and Sandbox.anchor).
import assert from "node:assert/strict";
import { once } from "node:events";
import { existsSync } from "node:fs";
import fs, { type FileHandle } from "node:fs/promises";
import path from "node:path";
import { test } from "node:test";
import { Worker } from "node:worker_threads";
import { snapshotTree } from "../fixtures/tree-snapshot.js";
import { startServer, type TestServer } from "../helpers/bftp-server.js";
import { ProtocolConnection } from "../helpers/protocol-connection.js";

/** Requests per command; an unprotected command is caught within a few dozen. */
const REQUESTS = 500;
const SECRET = "bftp-swap-race-outside-secret";

/**
 * The swapper: flips root/swap between the directory and the link with four renames per
 * round (a link cannot be renamed over a directory), until the shared flag is set. It always
 * finishes a round, so `swap` is a directory again when it stops.
 */
const SWAPPER = `
const { workerData } = require("node:worker_threads");
const fs = require("node:fs");
const path = require("node:path");
const stop = new Int32Array(workerData.flag);
const at = (name) => path.join(workerData.root, name);
while (Atomics.load(stop, 0) === 0) {
  fs.renameSync(at("swap"), at("parked-dir"));
  fs.renameSync(at("parked-link"), at("swap"));
  fs.renameSync(at("swap"), at("parked-link"));
  fs.renameSync(at("parked-dir"), at("swap"));
}
`;

/** A command sent through the swapped directory, request number `n`. */
interface Probe {
  readonly name: string;
  readonly request: (n: number) => Record<string, unknown>;
  /** PUT's data phase. */
  readonly data?: Buffer;
}

const PROBES: readonly Probe[] = [
  { name: "STAT", request: () => ({ op: "STAT", path: "swap/outside-only.txt" }) },
  { name: "LIST", request: () => ({ op: "LIST", path: "swap" }) },
  { name: "GET", request: () => ({ op: "GET", path: "swap/victim.txt" }) },
  { name: "HASH", request: () => ({ op: "HASH", path: "swap/victim.txt" }) },
  { name: "DELETE", request: () => ({ op: "DELETE", path: "swap/victim.txt" }) },
  {
    name: "RENAME from",
    request: (n) => ({ op: "RENAME", from: "swap/victim.txt", to: `/taken-${n}.txt` }),
  },
  {
    name: "RENAME to",
    request: (n) => ({ op: "RENAME", from: "/source.txt", to: `swap/moved-${n}.txt` }),
  },
  { name: "MKDIR", request: (n) => ({ op: "MKDIR", path: `swap/made-${n}` }) },
  { name: "RMDIR", request: () => ({ op: "RMDIR", path: "swap/empty" }) },
  {
    name: "PUT",
    request: (n) => ({ op: "PUT", path: `swap/put-${n}.txt` }),
    data: Buffer.from("x"),
  },
];

/** What a run plants: the outside folder, and the inside directory held open. */
interface Planted {
  readonly race: string;
  readonly insideDir: FileHandle;
}

/**
 * The root: `swap`, a directory holding `victim.txt` (inside); `parked-link`, the link the
 * swapper puts in its place, to `outside/race`, which holds its own `victim.txt`, a file
 * found only there, and an empty directory.
 */
async function plant(srv: TestServer): Promise<Planted> {
  const race = path.join(srv.outside, "race");
  await fs.mkdir(path.join(race, "empty"), { recursive: true });
  await fs.writeFile(path.join(race, "victim.txt"), SECRET);
  await fs.writeFile(path.join(race, "outside-only.txt"), SECRET);
  await fs.mkdir(path.join(srv.root, "swap"));
  await fs.symlink(race, path.join(srv.root, "parked-link"));
  const { O_RDONLY, O_DIRECTORY } = fs.constants;
  const insideDir = await fs.open(path.join(srv.root, "swap"), O_RDONLY | O_DIRECTORY);
  const planted = { race, insideDir };
  await restoreInside(srv, planted);
  return planted;
}

/**
 * Puts back what the commands consume inside the root. The test itself must not race the
 * swapper: it writes through the directory's descriptor (/proc/self/fd/N/name resolves
 * through the open directory, wherever it has been renamed to), never through `swap/`.
 */
async function restoreInside(srv: TestServer, planted: Planted): Promise<void> {
  await fs.writeFile(path.join(srv.root, "source.txt"), "inside");
  await fs.writeFile(`/proc/self/fd/${planted.insideDir.fd}/victim.txt`, "inside");
}

async function stopSwapper(worker: Worker, flag: Int32Array): Promise<void> {
  const exited = once(worker, "exit");
  Atomics.store(flag, 0, 1);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new Error("the swapper did not stop"));
    }, 5000);
  });
  try {
    await Promise.race([exited, deadline]);
  } catch (err) {
    await worker.terminate();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

const SKIP = existsSync("/proc/self/fd") ? false : "needs /proc/self/fd (Linux)";

for (const probe of PROBES) {
  test(
    `${probe.name} through a directory being swapped for a link never reaches outside`,
    { skip: SKIP },
    async (t) => {
      const srv = await startServer();
      const flag = new Int32Array(new SharedArrayBuffer(4));
      let worker: Worker | undefined;
      const conn = await ProtocolConnection.open(srv.port);
      const planted = await plant(srv);
      try {
        const outsideBefore = await snapshotTree(srv.outside);
        worker = new Worker(SWAPPER, {
          eval: true,
          workerData: { root: srv.root, flag: flag.buffer },
        });
        const codes = new Map<string, number>();
        for (let n = 0; n < REQUESTS; n++) {
          await conn.send(probe.request(n));
          if (probe.data !== undefined) await conn.sendData(probe.data);
          const reply = await conn.reply();
          const code = reply.ok ? "ok" : (reply.error?.code ?? "?");
          codes.set(code, (codes.get(code) ?? 0) + 1);
          let wire = JSON.stringify(reply);
          let data = "";
          if (reply.ok && (probe.name === "LIST" || probe.name === "GET")) {
            const phase = await conn.readData();
            data = phase.data.toString("latin1");
            wire += data + JSON.stringify(phase.trailer);
          }
          const what = `${probe.name} #${n} -> ${JSON.stringify(reply)}`;
          assert.ok(!wire.includes(SECRET), `an outside file was read: ${what}`);
          assert.ok(!data.includes("outside-only"), `the outside folder was listed: ${what}`);
          assert.ok(!(probe.name === "STAT" && reply.ok), `an outside file was found: ${what}`);
          if (n % 25 === 24 || n === REQUESTS - 1) {
            assert.deepEqual(
              await snapshotTree(srv.outside),
              outsideBefore,
              `changed outside: ${what}`,
            );
            await restoreInside(srv, planted);
          }
        }
        const running = worker;
        worker = undefined;
        await stopSwapper(running, flag);
        t.diagnostic(`replies: ${JSON.stringify(Object.fromEntries(codes))}`);
        assert.deepEqual(await snapshotTree(srv.outside), outsideBefore);
        assert.equal(await fs.readFile(path.join(planted.race, "victim.txt"), "utf8"), SECRET);
      } finally {
        if (worker !== undefined) await stopSwapper(worker, flag).catch(() => undefined);
        conn.close();
        await planted.insideDir.close();
        await srv.stop();
      }
    },
  );
}
