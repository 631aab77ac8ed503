import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import net from "node:net";
import { CLI } from "./spawn-serve.js";

/** How a `bftp` run ended and what it printed. */
export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Raw bytes of both streams, for checks on control characters. */
  readonly raw: Buffer;
}

/** Options for {@link runCli} and {@link startCli}. */
export interface RunCliOptions {
  readonly cwd?: string;
  /** Added to the environment (BFTP_PROGRESS is removed unless given here). */
  readonly env?: Readonly<Record<string, string>>;
  /** Deadline in ms (default 20 s): past it the child is killed by its PID and the run fails. */
  readonly timeout?: number;
  /** Run as this user and group (root only): for permission checks that root would bypass. */
  readonly uid?: number;
  readonly gid?: number;
}

/** A running `bftp` child and the promise of its result. */
export interface RunningCli {
  readonly child: ChildProcess;
  readonly result: Promise<CliResult>;
}

/**
 * Starts the built CLI (`node dist/bundle/bftp.js ARGS`, what `bin` runs) with stdin closed and stdout/stderr
 * captured (not a terminal). The result rejects if the deadline passes; the child is then
 * killed by PID, never by name.
 */
export function startCli(args: readonly string[], options: RunCliOptions = {}): RunningCli {
  const env: NodeJS.ProcessEnv = { ...process.env, ...options.env };
  if (options.env?.["BFTP_PROGRESS"] === undefined) delete env["BFTP_PROGRESS"];
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd,
    env,
    ...(options.uid === undefined ? {} : { uid: options.uid }),
    ...(options.gid === undefined ? {} : { gid: options.gid }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const raw: Buffer[] = [];
  child.stdout.on("data", (chunk: Buffer) => {
    out.push(chunk);
    raw.push(chunk);
  });
  child.stderr.on("data", (chunk: Buffer) => {
    err.push(chunk);
    raw.push(chunk);
  });
  const timeout = options.timeout ?? 20_000;
  const result = new Promise<CliResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`bftp ${args.join(" ")} did not finish within ${timeout} ms`));
    }, timeout);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        raw: Buffer.concat(raw),
      });
    });
  });
  return { child, result };
}

/** Runs the built CLI to its end (see {@link startCli}). */
export function runCli(args: readonly string[], options: RunCliOptions = {}): Promise<CliResult> {
  return startCli(args, options).result;
}

/** Parses the one JSON document a `--json` run printed on stdout. */
export function jsonOf(result: Pick<CliResult, "stdout">): Record<string, unknown> {
  const lines = result.stdout.split("\n").filter((l) => l !== "");
  if (lines.length !== 1) {
    throw new Error(`expected one JSON line on stdout, got ${lines.length}: ${result.stdout}`);
  }
  return JSON.parse(lines[0] ?? "") as Record<string, unknown>;
}

/** A TCP port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, "close");
  return port;
}
