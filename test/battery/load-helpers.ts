/**
 * Shared pieces of the load and resource checks (L1–L3, S1, S4–S7): a spawned server whose own
 * memory and descriptors can be read from /proc, raw loopback sockets, and small statistics.
 */
import { once } from "node:events";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import v8 from "node:v8";
import vm from "node:vm";
import { spawnServe, type ServeProcess } from "../helpers/spawn-serve.js";

/** A `bftp serve` child on a fresh temporary root. */
export interface SpawnedServer {
  readonly serve: ServeProcess;
  readonly port: number;
  readonly pid: number;
  readonly root: string;
  /** Stops this child (SIGTERM, then SIGKILL after 5 s) and removes its root. */
  readonly stop: () => Promise<void>;
}

/** Starts `bftp serve` quietly (warnings and errors only) with extra flags. */
export async function spawnServer(args: readonly string[] = []): Promise<SpawnedServer> {
  const base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-load-")));
  const root = path.join(base, "root");
  await fs.mkdir(root);
  const serve = await spawnServe(root, ["-q", "--shutdown-grace", "1", ...args]);
  const pid = serve.child.pid;
  if (pid === undefined) throw new Error("the server child has no pid");
  return {
    serve,
    port: serve.port,
    pid,
    root,
    stop: async () => {
      const killer = setTimeout(() => serve.child.kill("SIGKILL"), 5000);
      try {
        await serve.stop();
      } finally {
        clearTimeout(killer);
        await fs.rm(base, { recursive: true, force: true });
      }
    },
  };
}

/** Memory of another process, MB: resident now (VmRSS) and its peak so far (VmHWM). */
export async function processMemory(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await fs.readFile(`/proc/${pid}/status`, "utf8");
  const field = (name: string): number => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status);
    if (match === null) throw new Error(`no ${name} in /proc/${pid}/status`);
    return (Number(match[1]) * 1024) / 1e6;
  };
  return { rss: field("VmRSS"), peak: field("VmHWM") };
}

/** A raw TCP connection to 127.0.0.1 (from `localAddress`, any of 127/8), errors swallowed. */
export async function connectRaw(port: number, localAddress?: string): Promise<net.Socket> {
  const socket = net.connect({
    port,
    host: "127.0.0.1",
    ...(localAddress === undefined ? {} : { localAddress }),
  });
  socket.on("error", () => {});
  await once(socket, "connect");
  return socket;
}

/**
 * Resolves with the ms from `since` until the socket is closed or ended by the peer. The end is
 * seen only once what came before it is read: the caller keeps the socket flowing.
 */
export function closedAfter(socket: net.Socket, since: number): Promise<number> {
  if (socket.destroyed || socket.readableEnded) return Promise.resolve(Date.now() - since);
  return new Promise((resolve) => {
    const done = (): void => {
      resolve(Date.now() - since);
    };
    socket.once("end", done);
    socket.once("close", done);
  });
}

/** Rejects with `what` if `promise` does not settle within `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          reject(new Error(`${what}: not within ${ms} ms`));
        }, ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The p-th percentile (0–100) of `values` (nearest rank); 0 for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? 0;
}

/** Runs `task(i)` for i in [0, count) with at most `width` at once; resolves when all settled. */
export async function runPool(
  count: number,
  width: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, count) }, worker));
}

let gcFunction: (() => void) | undefined;

/**
 * This process's resident set size after a forced full GC, MB. Unlike check.ts's rssAfterGc it
 * also forces the GC without `--expose-gc` (the per-push run under `node --test`), through V8's
 * flag and a fresh context, so both sizes measure the same thing.
 */
export function rssAfterForcedGc(): number {
  if (gcFunction === undefined) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed === undefined) v8.setFlagsFromString("--expose-gc");
    gcFunction = exposed ?? (vm.runInNewContext("gc") as () => void);
  }
  gcFunction();
  return process.memoryUsage().rss / 1e6;
}
