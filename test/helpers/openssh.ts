import { randomBytes } from "node:crypto";
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import os from "node:os";
import { runCli } from "./run-cli.js";
import { spawnServe, type ServeProcess } from "./spawn-serve.js";

/** How an OpenSSH client run ended. */
export interface SshRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Where `bftp serve --sftp` listens, and what OpenSSH's clients need to trust it. */
export interface SftpEndpoint {
  readonly port: number;
  /** A known_hosts file holding the server's host key for [127.0.0.1]:PORT. */
  readonly knownHosts: string;
  /** The fingerprint the server printed (`SHA256:…`). */
  readonly fingerprint: string;
}

/**
 * The SFTP port and fingerprint `bftp serve --sftp` printed, and a known_hosts file written in
 * `dir` from the host key's `.pub` in the configuration folder `config` (what a user would
 * check the printed fingerprint against).
 */
export async function sftpEndpoint(
  serve: ServeProcess,
  config: string,
  dir: string,
): Promise<SftpEndpoint> {
  const deadline = Date.now() + 10_000;
  let listening: RegExpExecArray | null = null;
  let key: RegExpExecArray | null = null;
  while (listening === null || key === null) {
    if (Date.now() > deadline) throw new Error(`no sftp lines: ${serve.stdout.join("\n")}`);
    for (const line of serve.stdout) {
      listening ??= /^sftp listening on 127\.0\.0\.1:(\d+)$/u.exec(line);
      key ??= /^sftp host key (SHA256:\S+) /u.exec(line);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const port = Number(listening[1]);
  const pub = (await fs.readFile(path.join(config, "ssh_host_ed25519_key.pub"), "utf8")).trim();
  const [type, blob] = pub.split(" ");
  const knownHosts = path.join(dir, "known_hosts");
  await fs.writeFile(knownHosts, `[127.0.0.1]:${port} ${type ?? ""} ${blob ?? ""}\n`);
  return { port, knownHosts, fingerprint: key[1] ?? "" };
}

/**
 * Options every OpenSSH client run gets: the test's known_hosts only (a changed key fails),
 * no agent, no user configuration, no keys of the machine's user.
 */
export function sshOptions(endpoint: SftpEndpoint): string[] {
  return [
    "-F",
    "/dev/null",
    "-o",
    `UserKnownHostsFile=${endpoint.knownHosts}`,
    "-o",
    "StrictHostKeyChecking=yes",
    "-o",
    "GlobalKnownHostsFile=/dev/null",
    "-o",
    "IdentityAgent=none",
    "-o",
    "IdentitiesOnly=yes",
    "-o",
    "ConnectTimeout=10",
  ];
}

/**
 * Runs an OpenSSH client (`sftp`, `scp`) with stdin closed; `password`, when given, is typed
 * through SSH_ASKPASS (a script in `dir`), as a person would at the prompt. 60 s deadline;
 * the child is killed by its PID past it.
 */
export async function runSsh(
  program: string,
  args: readonly string[],
  options: { readonly password?: string; readonly dir: string; readonly cwd?: string },
): Promise<SshRun> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env["SSH_AUTH_SOCK"];
  if (options.password !== undefined) {
    const askpass = path.join(options.dir, "askpass.sh");
    await fs.writeFile(askpass, `#!/bin/sh\nprintf '%s\\n' '${options.password}'\n`, {
      mode: 0o700,
    });
    env["SSH_ASKPASS"] = askpass;
    env["SSH_ASKPASS_REQUIRE"] = "force";
    env["DISPLAY"] = env["DISPLAY"] ?? ":0";
  }
  const child = spawn(program, args, {
    env,
    cwd: options.cwd ?? options.dir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** A `bftp serve --sftp` child in a temporary folder, with the account alice (alice-pw). */
export interface SftpServe {
  readonly base: string;
  readonly config: string;
  readonly served: string;
  readonly serve: ServeProcess;
  readonly endpoint: SftpEndpoint;
  /** Stops the server and removes the temporary folder. */
  readonly stop: () => Promise<void>;
}

/**
 * Makes a temporary folder (`prefix`), adds the account alice (password alice-pw) and the
 * public keys `keys` (files made by `prepare`, which runs first, in the folder), and starts
 * `bftp serve --sftp` on free ports with a 0.2 s login delay.
 */
export async function startSftpServe(
  prefix: string,
  prepare: (base: string) => Promise<readonly string[]> = () => Promise.resolve([]),
): Promise<SftpServe> {
  const base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), prefix)));
  const config = path.join(base, "config");
  const served = path.join(base, "served");
  await fs.mkdir(served);
  const keys = await prepare(base);
  const added = await runCli(["user", "add", "alice", "--config-dir", config], {
    env: { BFTP_PASSWORD: "alice-pw" },
  });
  if (added.code !== 0) throw new Error(`user add: ${added.stderr}`);
  for (const key of keys) {
    const run = await runCli(["user", "add-key", "alice", key, "--config-dir", config]);
    if (run.code !== 0) throw new Error(`user add-key: ${run.stderr}`);
  }
  const serve = await spawnServe(served, [
    "--config-dir",
    config,
    "--login-delay",
    "0.2",
    "--sftp-port",
    "0",
  ]);
  const endpoint = await sftpEndpoint(serve, config, base);
  return {
    base,
    config,
    served,
    serve,
    endpoint,
    stop: async () => {
      await serve.stop();
      await fs.rm(base, { recursive: true, force: true });
    },
  };
}

/** Where an OpenSSH client runs: its scratch folder (askpass, batch files) and its folder. */
export interface SshPlace {
  readonly endpoint: SftpEndpoint;
  /** A folder for the askpass script and batch files. */
  readonly dir: string;
  /** The client's working folder (local paths in the commands). */
  readonly cwd: string;
}

/** OpenSSH's `sftp -b` with `lines` as its batch, logged in as `user` with `password`. */
export async function sftpBatch(
  place: SshPlace,
  lines: readonly string[],
  password = "alice-pw",
  user = "alice",
): Promise<SshRun> {
  const batch = path.join(place.dir, `batch-${randomBytes(4).toString("hex")}`);
  await fs.writeFile(batch, `${lines.join("\n")}\n`);
  return runSsh(
    "sftp",
    [
      ...sshOptions(place.endpoint),
      "-o",
      "BatchMode=no",
      "-b",
      batch,
      "-P",
      String(place.endpoint.port),
      `${user}@127.0.0.1`,
    ],
    { password, dir: place.dir, cwd: place.cwd },
  );
}

/** OpenSSH's `scp` with `args`, logged in with `password`. */
export function scp(
  place: SshPlace,
  args: readonly string[],
  password = "alice-pw",
): Promise<SshRun> {
  return runSsh(
    "scp",
    [...sshOptions(place.endpoint), "-P", String(place.endpoint.port), ...args],
    {
      password,
      dir: place.dir,
      cwd: place.cwd,
    },
  );
}
