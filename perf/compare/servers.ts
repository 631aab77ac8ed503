/**
 * The four servers of the side-by-side bench, each started on 127.0.0.1 as a child of the
 * bench, anonymous read-write in the shared scratch folder, with its passive ports on
 * loopback. A server that is not installed or does not start is reported with the reason;
 * it never stops the others.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { BftpClient } from "../../src/client/client.js";
import { FtpClient } from "./ftp-client.js";
import { freePort, spawnServer, waitUntilReady, type ServerProcess } from "./server-process.js";

export const SERVER_NAMES = ["bftp", "vsftpd", "pure-ftpd", "pyftpdlib"] as const;
export type ServerName = (typeof SERVER_NAMES)[number];

/** A server up and answering. */
export interface RunningServer {
  readonly name: ServerName;
  readonly protocol: "bftp" | "ftp";
  readonly port: number;
  readonly process: ServerProcess;
  /** What was started, for the report ("vsftpd 3.0.3, one process per session"). */
  readonly description: string;
}

/** Where things are: the served folder and a folder for configs. */
export interface StartContext {
  /** The folder every server serves as "/"; uploads go to a world-writable folder in it. */
  readonly root: string;
  /** Scratch for config files and vsftpd's empty chroot folder. */
  readonly work: string;
  /** `bftp serve --workers` (default 1). */
  readonly bftpWorkers: number;
}

/** The repository's top folder, found from this file in either perf/ or dist/perf/. */
export const REPO_ROOT = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, "package.json"))) dir = path.dirname(dir);
  return dir;
})();

const PEERS = path.join(REPO_ROOT, "perf", "compare", ".peers");
const PURE_FTPD = path.join(PEERS, "pure-ftpd", "usr", "sbin", "pure-ftpd");
const PYTHON = "/usr/bin/python3"; // Debian's, which has python3-pyftpdlib (not a pyenv shim)
const VSFTPD = "/usr/sbin/vsftpd";

/** Passive port ranges, below Linux's ephemeral range so they never meet a client's port. */
const PASSIVE: Record<Exclude<ServerName, "bftp">, readonly [number, number]> = {
  vsftpd: [21000, 21999],
  "pure-ftpd": [22000, 22999],
  pyftpdlib: [23000, 23999],
};

/** Starts `name`; throws an Error whose message is the "not run" reason. */
export async function startServer(name: ServerName, ctx: StartContext): Promise<RunningServer> {
  switch (name) {
    case "bftp":
      return startBftp(ctx);
    case "vsftpd":
      return startVsftpd(ctx);
    case "pure-ftpd":
      return startPureFtpd(ctx);
    case "pyftpdlib":
      return startPyftpdlib(ctx);
  }
}

async function startBftp(ctx: StartContext): Promise<RunningServer> {
  // What `bin` runs (the bundle, scripts/bundle.ts), as a user starts it: the one-module-per-
  // file build loads some 150 modules and holds more memory for the same work.
  const cli = path.join(REPO_ROOT, "dist", "bundle", "bftp.js");
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run npm run build`);
  // Per-address caps raised so 100 clients from 127.0.0.1 are let in, as the peers are; a
  // config folder of its own, so the operator's accounts (if any) do not apply.
  const server = spawnServer(process.execPath, [
    cli,
    "serve",
    ctx.root,
    "--config-dir",
    path.join(ctx.work, "bftp-config"),
    "--port",
    "0",
    "--quiet",
    "--log-format",
    "json",
    "--max-connections",
    "1000",
    "--max-per-ip",
    "1000",
    "--workers",
    String(ctx.bftpWorkers),
  ]);
  let port = 0;
  await waitUntilReady(server, async () => {
    port = Number(/listening on [^\n]*:(\d+)\n/.exec(server.output() + "\n")?.[1] ?? 0);
    if (port === 0) throw new Error("no listening line yet");
    const client = await BftpClient.connect({ host: "127.0.0.1", port });
    await client.close();
  });
  const workers = ctx.bftpWorkers === 1 ? "one process" : `${ctx.bftpWorkers} worker processes`;
  return {
    name: "bftp",
    protocol: "bftp",
    port,
    process: server,
    description: `bftp serve (this tree), ${workers}`,
  };
}

async function startVsftpd(ctx: StartContext): Promise<RunningServer> {
  if (!existsSync(VSFTPD)) throw new Error(`${VSFTPD} is not installed`);
  const port = await freePort();
  const empty = path.join(ctx.work, "vsftpd-empty"); // secure_chroot_dir: root-owned, empty
  await fs.mkdir(empty, { recursive: true, mode: 0o755 });
  const conf = path.join(ctx.work, "vsftpd.conf");
  const [low, high] = PASSIVE.vsftpd;
  await fs.writeFile(
    conf,
    [
      "listen=YES",
      "listen_ipv6=NO",
      "listen_address=127.0.0.1",
      `listen_port=${port}`,
      "background=NO",
      "anonymous_enable=YES",
      "local_enable=NO",
      "no_anon_password=YES",
      "write_enable=YES",
      "anon_upload_enable=YES",
      "anon_mkdir_write_enable=YES",
      "anon_other_write_enable=YES",
      "anon_world_readable_only=NO",
      "anon_umask=022",
      `anon_root=${ctx.root}`,
      `secure_chroot_dir=${empty}`,
      "pasv_enable=YES",
      "pasv_address=127.0.0.1",
      `pasv_min_port=${low}`,
      `pasv_max_port=${high}`,
      "port_enable=NO",
      "connect_from_port_20=NO",
      "seccomp_sandbox=NO",
      "xferlog_enable=NO",
      "dirmessage_enable=NO",
      "tcp_wrappers=NO",
      "max_clients=0",
      "max_per_ip=0",
      "ftpd_banner=vsftpd bench",
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
  const server = spawnServer(VSFTPD, [conf]);
  await waitUntilReady(server, () => ftpProbe(port));
  return {
    name: "vsftpd",
    protocol: "ftp",
    port,
    process: server,
    description: `vsftpd ${debVersion("vsftpd")}, one process pair per session`,
  };
}

async function startPureFtpd(ctx: StartContext): Promise<RunningServer> {
  if (!existsSync(PURE_FTPD)) throw new Error(`${PURE_FTPD} is not unpacked`);
  // pure-ftpd serves anonymous users from the `ftp` user's home and has no flag to change
  // it: bind the scratch folder over that home in a mount namespace of its own, so nothing
  // outside the server sees the change.
  const home = ftpHome();
  const port = await freePort();
  const [low, high] = PASSIVE["pure-ftpd"];
  const flags = [
    "-S",
    `127.0.0.1,${port}`,
    "-4", // IPv4 only
    "-H", // do not resolve client names
    "-e", // anonymous only
    "-M", // anonymous may create folders
    "-A", // chroot everyone
    "-c",
    "1000", // clients at once (default 50)
    "-C",
    "1000", // per address
    "-p",
    `${low}:${high}`,
    "-P",
    "127.0.0.1",
    "-U",
    "022:022",
    "-f",
    "none", // no syslog
  ];
  const script = 'mount --bind "$1" "$2" && shift 2 && exec "$@"';
  const server = spawnServer("unshare", [
    "--mount",
    "--propagation",
    "private",
    "--",
    "/bin/sh",
    "-c",
    script,
    "sh",
    ctx.root,
    home,
    PURE_FTPD,
    ...flags,
  ]);
  await waitUntilReady(server, () => ftpProbe(port));
  return {
    name: "pure-ftpd",
    protocol: "ftp",
    port,
    process: server,
    description: `pure-ftpd ${binaryVersion(PURE_FTPD)}, one process per session`,
  };
}

async function startPyftpdlib(ctx: StartContext): Promise<RunningServer> {
  try {
    execFileSync(PYTHON, ["-c", "import pyftpdlib"], { stdio: "ignore" });
  } catch {
    throw new Error(`${PYTHON} cannot import pyftpdlib (apt-get install python3-pyftpdlib)`);
  }
  const port = await freePort();
  const [low, high] = PASSIVE.pyftpdlib;
  const script = path.join(REPO_ROOT, "perf", "compare", "pyftpd-serve.py");
  const server = spawnServer(PYTHON, [script, ctx.root, String(port), String(low), String(high)]);
  await waitUntilReady(server, () => ftpProbe(port));
  return {
    name: "pyftpdlib",
    protocol: "ftp",
    port,
    process: server,
    description: `pyftpdlib ${debVersion("python3-pyftpdlib")}, one process, sendfile`,
  };
}

/** Logs in anonymously and out again: the server is up and accepts the bench's login. */
async function ftpProbe(port: number): Promise<void> {
  const client = await FtpClient.connect({ port, timeoutMs: 5000 });
  await client.quit();
}

function ftpHome(): string {
  const line = execFileSync("getent", ["passwd", "ftp"], { encoding: "utf8" });
  const home = line.split(":")[5];
  if (home === undefined || home === "")
    throw new Error("no `ftp` user (run perf/compare/install-peers.sh)");
  return home;
}

function debVersion(pkg: string): string {
  try {
    return execFileSync("dpkg-query", ["-W", "-f=${Version}", pkg], { encoding: "utf8" });
  } catch {
    return "(version unknown)";
  }
}

/** The unpacked pure-ftpd has no dpkg record: ask the binary (its --help names the version). */
function binaryVersion(binary: string): string {
  const r = spawnSync(binary, ["--help"], { encoding: "utf8" });
  return /v(\d[\w.]*)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? "(version unknown)";
}

/** Stops a server and waits; safe to call on one already stopped. */
export async function stopServer(server: RunningServer): Promise<void> {
  await server.process.stop();
  if (server.process.child.exitCode === null && server.process.child.signalCode === null)
    await once(server.process.child, "exit");
}
