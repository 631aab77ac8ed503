/**
 * Running the built examples as child processes in tests: servers started with `--port 0`
 * (the port read from their first stdout line), clients run to completion. Every wait has a
 * deadline, and only the processes started here are ever signalled, by their own PID.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The longest any single wait in the example tests may take; generous for loaded machines. */
export const DEADLINE_MS = 20_000;

/** Absolute path of a built example, e.g. `dist/examples/echo-server.js`. */
export function examplePath(name: string): string {
  return fileURLToPath(new URL(`../../examples/${name}.js`, import.meta.url));
}

/** Rejects with a message naming `what` if `promise` has not settled within `ms`. */
export function withDeadline<T>(promise: Promise<T>, what: string, ms = DEADLINE_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`Timed out after ${ms} ms waiting for ${what}`));
    }, ms);
  });
  return Promise.race([promise, deadline]).finally(() => {
    clearTimeout(timer);
  });
}

/** How a child process ended. */
export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A running example server. */
export interface ExampleServer {
  /** The port from its `listening on HOST:PORT` line. */
  readonly port: number;
  /** The PID of the process started (the cluster primary in processes mode). */
  readonly pid: number;
  /** Every complete stderr line so far. */
  readonly stderrLines: readonly string[];
  /** Resolves with the first `count` stderr lines matching `pattern` (past or future). */
  waitForStderr(pattern: RegExp, count?: number): Promise<RegExpExecArray[]>;
  /** Resolves when the process exits. */
  readonly exited: Promise<ExitStatus>;
  /** Sends `signal` (SIGTERM by default) to this process and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<ExitStatus>;
}

function exitOf(child: ChildProcess): Promise<ExitStatus> {
  return new Promise((resolve) => {
    child.once("exit", (code, signal) => {
      resolve({ code, signal });
    });
  });
}

/**
 * Starts `node dist/examples/NAME.js ...args` and resolves once it printed its listening
 * line. Rejects (and kills it) if it exits first or the line does not come in time.
 */
export async function startExampleServer(name: string, args: string[]): Promise<ExampleServer> {
  const child = spawn(process.execPath, [examplePath(name), ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`Cannot start ${name}`);
  const exited = exitOf(child);
  const lines: string[] = [];
  const watchers = new Set<() => void>();
  let partial = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (text: string) => {
    const parts = (partial + text).split("\n");
    partial = parts.pop() ?? "";
    lines.push(...parts);
    for (const watch of watchers) watch();
  });
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  void exited.then(() => {
    for (const watch of watchers) watch();
  });

  const stop = async (signal: NodeJS.Signals = "SIGTERM"): Promise<ExitStatus> => {
    if (running()) child.kill(signal);
    try {
      return await withDeadline(exited, `${name} to exit on ${signal}`);
    } catch (err) {
      child.kill("SIGKILL");
      throw err;
    }
  };

  let port: number;
  try {
    port = await withDeadline(firstLinePort(child, exited), `${name} to listen`);
  } catch (err) {
    if (running()) child.kill("SIGKILL");
    throw new Error(`${String(err)}\nstderr:\n${lines.join("\n")}${partial}`, { cause: err });
  }

  const waitForStderr = (pattern: RegExp, count = 1): Promise<RegExpExecArray[]> =>
    withDeadline(
      new Promise<RegExpExecArray[]>((resolve, reject) => {
        const watch = (): void => {
          const found: RegExpExecArray[] = [];
          for (const line of lines) {
            const match = pattern.exec(line);
            if (match) found.push(match);
          }
          if (found.length >= count) {
            watchers.delete(watch);
            resolve(found.slice(0, count));
          } else if (!running()) {
            watchers.delete(watch);
            reject(new Error(`${name} exited before logging ${String(pattern)}`));
          }
        };
        watchers.add(watch);
        watch();
      }),
      `${name} to log ${String(pattern)} x${count}`,
    );

  return { port, pid, stderrLines: lines, waitForStderr, exited, stop };
}

/** The port in the first stdout line, `listening on HOST:PORT`. */
function firstLinePort(child: ChildProcess, exited: Promise<ExitStatus>): Promise<number> {
  return new Promise((resolve, reject) => {
    let text = "";
    const stdout = child.stdout;
    if (stdout === null) throw new Error("The server's stdout is not a pipe");
    stdout.setEncoding("utf8");
    stdout.on("data", (chunk: string) => {
      if (text.includes("\n")) return;
      text += chunk;
      const newline = text.indexOf("\n");
      if (newline === -1) return;
      const match = /^listening on (.+):(\d+)$/.exec(text.slice(0, newline));
      if (match) resolve(Number(match[2]));
      else reject(new Error(`Unexpected first line ${JSON.stringify(text.slice(0, newline))}`));
    });
    void exited.then((status) => {
      reject(new Error(`Exited before listening: ${JSON.stringify(status)}`));
    });
  });
}

/** What a finished example printed, and how it ended. */
export interface ExampleRun extends ExitStatus {
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** Options for {@link runExample}. */
export interface RunExampleOptions {
  /** Bytes for its stdin (closed at once when absent). */
  readonly input?: Uint8Array | string;
  /** Working directory. */
  readonly cwd?: string;
}

/**
 * Runs `node dist/examples/NAME.js ...args` to completion and collects its output. A run
 * that outlives the deadline is killed (by its PID) and the promise rejects.
 */
export async function runExample(
  name: string,
  args: string[],
  options: RunExampleOptions = {},
): Promise<ExampleRun> {
  const child = spawn(process.execPath, [examplePath(name), ...args], {
    stdio: ["pipe", "pipe", "pipe"],
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  const exited = exitOf(child);
  const stdout: Buffer[] = [];
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout.push(chunk);
  });
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (text: string) => {
    stderr += text;
  });
  const closed = new Promise<void>((resolve) => {
    child.once("close", () => {
      resolve();
    });
  });
  child.stdin.on("error", () => undefined); // the program may exit without reading it all
  child.stdin.end(options.input);
  try {
    const status = await withDeadline(exited, `${name} ${args.join(" ")} to finish`);
    await withDeadline(closed, `${name} output to close`);
    return { ...status, stdout: Buffer.concat(stdout), stderr };
  } catch (err) {
    child.kill("SIGKILL");
    throw new Error(`${String(err)}\nstderr so far:\n${stderr}`, { cause: err });
  }
}
