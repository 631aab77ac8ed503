import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

/**
 * The CLI as `bin` runs it: the bundle, dist/bundle/bftp.js (scripts/bundle.ts; tests run
 * from dist/test).
 */
export const CLI = fileURLToPath(new URL("../../bundle/bftp.js", import.meta.url));

/** The CLI as tsc builds it, one module per source file: dist/src/cli/bftp.js. */
export const UNBUNDLED_CLI = fileURLToPath(new URL("../../src/cli/bftp.js", import.meta.url));

/** A `bftp serve` child process on an ephemeral port. */
export interface ServeProcess {
  readonly child: ChildProcess;
  readonly host: string;
  readonly port: number;
  /** Every line written to stdout and stderr so far. */
  readonly stdout: string[];
  readonly stderr: string[];
  /** Sends SIGTERM to this child (only) and resolves with its exit code. */
  readonly stop: () => Promise<number | null>;
}

/**
 * An XDG_CONFIG_HOME that does not exist, so a test server never reads the real
 * ~/.config/bftp/users.json (tests with accounts pass --config-dir).
 */
export const NO_CONFIG_HOME = fileURLToPath(new URL("../.no-config-home", import.meta.url));

/** Runs `bftp serve DIR --port 0 ...args` and waits for its `listening on` line (10 s deadline). */
export async function spawnServe(dir: string, args: readonly string[] = []): Promise<ServeProcess> {
  const child = spawn(
    process.execPath,
    [CLI, "serve", dir, "--port", "0", "--log-format", "json", ...args],
    {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, XDG_CONFIG_HOME: NO_CONFIG_HOME },
    },
  );
  const stdout: string[] = [];
  const stderr: string[] = [];
  const collect = (into: string[]) => (chunk: Buffer) => {
    into.push(
      ...chunk
        .toString("utf8")
        .split("\n")
        .filter((l) => l !== ""),
    );
  };
  child.stdout.on("data", collect(stdout));
  child.stderr.on("data", collect(stderr));
  const exited = once(child, "exit") as Promise<[number | null]>;
  const first = await Promise.race([
    new Promise<string>((resolve) => {
      const check = (): void => {
        if (stdout.length > 0) resolve(stdout[0] ?? "");
        else child.stdout.once("data", check);
      };
      check();
    }),
    exited.then(([code]) => {
      throw new Error(`bftp serve exited with ${code}: ${stderr.join("\n")}`);
    }),
    new Promise<never>((_, reject) =>
      setTimeout(() => {
        reject(new Error("no listening line within 10 s"));
      }, 10_000).unref(),
    ),
  ]);
  const match = /^listening on (.+):(\d+)$/.exec(first);
  if (match === null) {
    child.kill("SIGKILL");
    throw new Error(`unexpected first line: ${first}`);
  }
  return {
    child,
    host: match[1] ?? "",
    port: Number(match[2]),
    stdout,
    stderr,
    stop: async () => {
      if (child.exitCode !== null) return child.exitCode;
      child.kill("SIGTERM");
      const [code] = await exited;
      return code;
    },
  };
}
