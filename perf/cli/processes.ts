/**
 * The child processes of `npm run bench:cli`: a command timed from spawn to exit, and a
 * server started until it prints its `listening on HOST:PORT` line. Every wait has a deadline
 * and every captured output a cap; servers are stopped by the PID this code started.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";

/** Output kept from a child, bytes: enough for an error message, never unbounded. */
const MAX_OUTPUT = 64 * 1024;

function capture(stream: NodeJS.ReadableStream | null, into: { text: string }): void {
  stream?.setEncoding("utf8");
  stream?.on("data", (text: string) => {
    if (into.text.length < MAX_OUTPUT) into.text += text.slice(0, MAX_OUTPUT - into.text.length);
  });
}

/** What a timed command did. */
export interface TimedRun {
  readonly seconds: number;
  readonly stderr: string;
}

/**
 * Runs `node ARGS` and resolves with its wall-clock time, from spawn to exit. Rejects when it
 * exits non-zero or runs past `deadlineMs` (then it is killed).
 */
export async function timeNode(args: readonly string[], deadlineMs: number): Promise<TimedRun> {
  const start = performance.now();
  const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
  const stderr = { text: "" };
  capture(child.stderr, stderr);
  const timer = setTimeout(() => child.kill("SIGKILL"), deadlineMs);
  try {
    const [code, signal] = (await once(child, "exit")) as [number | null, string | null];
    const seconds = (performance.now() - start) / 1000;
    if (code !== 0)
      throw new Error(
        `node ${args.join(" ")} exited ${code ?? signal ?? "?"}: ${stderr.text.trim().slice(0, 500)}`,
      );
    return { seconds, stderr: stderr.text };
  } finally {
    clearTimeout(timer);
  }
}

/** A server this bench started. */
export interface Listener {
  readonly port: number;
  readonly child: ChildProcess;
}

/** Starts `node ARGS` and waits (at most `deadlineMs`) for `listening on ...:PORT`. */
export async function startListener(
  args: readonly string[],
  deadlineMs = 15_000,
): Promise<Listener> {
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  const stdout = { text: "" };
  const stderr = { text: "" };
  capture(child.stdout, stdout);
  capture(child.stderr, stderr);
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`no "listening on" line within ${deadlineMs} ms`));
      }, deadlineMs);
      const look = (): void => {
        const match = /listening on [^\n]*:(\d+)\r?\n/.exec(stdout.text);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      };
      child.stdout.on("data", look);
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`exited ${code ?? "?"} before listening: ${stderr.text.trim()}`));
      });
    });
    return { port, child };
  } catch (err) {
    await stopListener({ port: 0, child });
    throw new Error(`Cannot start node ${args.join(" ")}`, { cause: err });
  }
}

/** Stops a server this bench started (SIGTERM, then SIGKILL after 5 s) and waits for it. */
export async function stopListener(listener: Listener): Promise<void> {
  const { child } = listener;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}
