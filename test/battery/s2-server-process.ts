/**
 * A bftp server in a child process (see s2-server-child.ts), for checks that measure the
 * server's own memory: its RSS after a forced GC, asked for over IPC.
 */
import { fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ServerLimits } from "../../src/server/limits.js";

const CHILD = fileURLToPath(new URL("./s2-server-child.js", import.meta.url));

/** A running child server. */
export interface ServerProcess {
  readonly port: number;
  /** Real path of the served root. */
  readonly root: string;
  /** The child's RSS and heap in use after a forced GC, MB, and its open connections. */
  readonly sample: () => Promise<ServerSample>;
  /** Stops this child (only) and removes its root. */
  readonly stop: () => Promise<void>;
}

/** What {@link ServerProcess.sample} measured. */
export interface ServerSample {
  readonly rss: number;
  readonly heapUsed: number;
  readonly connections: number;
}

interface Message {
  readonly port?: number;
  readonly rss?: number;
  readonly heapUsed?: number;
  readonly connections?: number;
}

function nextMessage(child: ChildProcess, ms: number): Promise<Message> {
  return Promise.race([
    once(child, "message").then(([m]) => m as Message),
    new Promise<never>((_, reject) =>
      setTimeout(() => {
        reject(new Error("the server process did not answer"));
      }, ms).unref(),
    ),
  ]);
}

/** Starts a server process on 127.0.0.1 port 0 serving a fresh temporary folder. */
export async function startServerProcess(
  limits: Partial<ServerLimits> = {},
): Promise<ServerProcess> {
  const base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-battery-")));
  const root = path.join(base, "root");
  await fs.mkdir(root);
  const child = fork(CHILD, [root, JSON.stringify(limits)], {
    execArgv: ["--expose-gc"],
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  const exited = once(child, "exit");
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      if (child.connected) child.send("stop");
      else child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(killer);
    }
    await fs.rm(base, { recursive: true, force: true });
  };
  try {
    const { port } = await nextMessage(child, 10_000);
    if (port === undefined) throw new Error("the server process sent no port");
    let queue: Promise<unknown> = Promise.resolve();
    const sample = (): Promise<ServerSample> => {
      const next = queue.then(async () => {
        const reply = nextMessage(child, 10_000);
        child.send("rss");
        const m = await reply;
        return {
          rss: m.rss ?? NaN,
          heapUsed: m.heapUsed ?? NaN,
          connections: m.connections ?? NaN,
        };
      });
      queue = next.catch(() => undefined);
      return next;
    };
    return { port, root, sample, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
