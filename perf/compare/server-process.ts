/**
 * Starting and stopping one server process for the bench: spawn, wait until it answers,
 * keep the tail of its stderr for the "not run" reason, and stop it (and whatever it forked)
 * by PID.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import fs from "node:fs/promises";
import { closedPort } from "../../test/helpers/run-cli.js";
import { treePids } from "./process-tree.js";

/** A TCP port free on 127.0.0.1 right now (the OS picks it; a tiny race is accepted). */
export const freePort = closedPort;

/** A server the bench started. */
export interface ServerProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** The last few KiB of what it wrote on stdout and stderr. */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; also ends session processes it forked. */
  stop(graceMs?: number): Promise<void>;
}

const TAIL_BYTES = 4096;

/** Spawns `command` with its output captured (bounded), its stdin closed. */
export function spawnServer(command: string, args: readonly string[]): ServerProcess {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  let tail = "";
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString("utf8")).slice(-TAIL_BYTES);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  child.on("error", (err) => {
    keep(Buffer.from(`\n${err.message}\n`));
  });
  const pid = child.pid ?? -1;
  return {
    pid,
    child,
    output: () => tail.trim(),
    stop: async (graceMs = 5000) => {
      if (pid < 0 || child.exitCode !== null || child.signalCode !== null) return;
      // Sessions forked by vsftpd and pure-ftpd: remember them (with their names, so a PID
      // reused meanwhile is left alone) before the parent goes.
      const forked = await namedPids(treePids(pid).filter((p) => p !== pid));
      child.kill("SIGTERM");
      const exited = once(child, "exit");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
      for (const [p, name] of forked) {
        if ((await commOf(p)) === name) {
          try {
            process.kill(p, "SIGKILL");
          } catch {
            // already gone
          }
        }
      }
    },
  };
}

async function commOf(pid: number): Promise<string | undefined> {
  try {
    return (await fs.readFile(`/proc/${pid}/comm`, "utf8")).trim();
  } catch {
    return undefined;
  }
}

async function namedPids(pids: readonly number[]): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  for (const pid of pids) {
    const name = await commOf(pid);
    if (name !== undefined) out.set(pid, name);
  }
  return out;
}

/**
 * Polls `probe` every 100 ms until it resolves, the process exits, or `timeoutMs` passes;
 * throws with the process's own words when it does not come up.
 */
export async function waitUntilReady(
  server: ServerProcess,
  probe: () => Promise<void>,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    const { exitCode, signalCode } = server.child;
    if (exitCode !== null || signalCode !== null)
      throw new Error(
        `it exited (${exitCode ?? signalCode ?? "?"}) at start: ${server.output() || "no output"}`,
      );
    try {
      await probe();
      return;
    } catch (err) {
      last = err;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const why = last instanceof Error ? last.message : String(last);
  await server.stop();
  throw new Error(`not ready within ${timeoutMs} ms (${why}): ${server.output() || "no output"}`);
}
