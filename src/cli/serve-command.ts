import cluster from "node:cluster";
import fs from "node:fs/promises";
import path from "node:path";
import { Command, Option } from "commander";
import { configDir } from "../config-dir.js";
import { DEFAULT_PORT } from "../protocol/version.js";
import type { AccountsOptions } from "../server/accounts/accounts.js";
import { parsePermissions } from "../server/accounts/permissions.js";
import { loadUsers, usersFilePath } from "../server/accounts/users-file.js";
import { DEFAULT_LIMITS, type ServerLimits } from "../server/limits.js";
import { createLogger, type Logger } from "../server/logger.js";
import { BftpServer } from "../server/server.js";
import { sweepTempFiles } from "../server/temp-files.js";
import { reportError, usageError } from "./common.js";
import { bytes, integer, seconds, secondsOrZero } from "./options.js";

/** The folder `bftp serve` shares when none is named. */
export const DEFAULT_FOLDER = "bftp-files";

interface ServeFlags {
  host: string;
  port: number;
  workers: number;
  maxConnections: number;
  maxPerIp: number;
  idleTimeout: number;
  frameTimeout: number;
  stallTimeout: number;
  maxControlFrame: number;
  maxChunk: number;
  readAhead: number;
  shutdownGrace: number;
  logFormat: "json" | "text" | undefined;
  quiet: boolean | undefined;
  configDir: string | undefined;
  anonymous: boolean | undefined;
  anonymousPermissions: string | undefined;
  loginDelay: number;
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

/** `bftp serve [DIR]`: the server, on loopback by default, one or several processes. */
export function serveCommand(): Command {
  const d = DEFAULT_LIMITS;
  return new Command("serve")
    .description("Serve a folder over BFTP/1 (see PROTOCOL.md)")
    .argument("[dir]", `folder to serve as "/", created if missing`, DEFAULT_FOLDER)
    .option(
      "--host <address>",
      "address to listen on; loopback unless you say otherwise",
      "127.0.0.1",
    )
    .option("-p, --port <port>", "TCP port; 0 picks a free one", integer(0, 65535), DEFAULT_PORT)
    .option(
      "--workers <n>",
      "processes sharing the port (use the cores you have)",
      integer(1, 64),
      1,
    )
    .option("--max-connections <n>", "connections at once, overall", integer(1), d.maxConnections)
    .option("--max-per-ip <n>", "connections at once from one address", integer(1), d.maxPerIp)
    .addOption(
      new Option("--idle-timeout <seconds>", "close a connection idle this long")
        .argParser(seconds)
        .default(d.idleTimeoutMs, `${d.idleTimeoutMs / 1000}`),
    )
    .addOption(
      new Option("--frame-timeout <seconds>", "deadline to finish a frame once begun")
        .argParser(seconds)
        .default(d.frameTimeoutMs, `${d.frameTimeoutMs / 1000}`),
    )
    .addOption(
      new Option("--stall-timeout <seconds>", "abort a transfer stalled this long")
        .argParser(seconds)
        .default(d.stallTimeoutMs, `${d.stallTimeoutMs / 1000}`),
    )
    .option(
      "--max-control-frame <bytes>",
      "largest request frame",
      bytes(256, 1 << 20),
      d.maxControlFrame,
    )
    .option("--max-chunk <bytes>", "largest data frame", bytes(4096, 64 << 20), d.maxChunk)
    .option(
      "--read-ahead <bytes>",
      "request bytes read ahead of execution",
      bytes(4096, 64 << 20),
      d.readAheadBytes,
    )
    .addOption(
      new Option("--shutdown-grace <seconds>", "on SIGINT/SIGTERM, let transfers finish this long")
        .argParser(seconds)
        .default(d.shutdownGraceMs, `${d.shutdownGraceMs / 1000}`),
    )
    .addOption(
      new Option(
        "--log-format <format>",
        "log lines on stderr (default: text on a terminal, else json)",
      ).choices(["json", "text"]),
    )
    .option("-q, --quiet", "log only warnings and errors")
    .option(
      "--config-dir <dir>",
      "the configuration folder holding users.json (default $XDG_CONFIG_HOME/bftp or ~/.config/bftp)",
    )
    .option("--anonymous", "with accounts: also let in clients that do not log in (read only)")
    .option(
      "--anonymous-permissions <list>",
      "with --anonymous: what they may do, from read,write,delete,mkdir (default read)",
    )
    .addOption(
      new Option("--login-delay <seconds>", "wait before answering a failed login")
        .argParser(secondsOrZero)
        .default(d.loginDelayMs, `${d.loginDelayMs / 1000}`),
    )
    .addHelpText(
      "after",
      `
Timeouts are in seconds (fractions allowed); sizes accept k, m, g suffixes.

Accounts: without a users file (bftp user add NAME creates it) anyone who connects may
read and write, as on a private loopback server. With accounts every client must log in
(bftp://NAME@host; password typed or from BFTP_PASSWORD), each confined to its root with
its permissions; --anonymous also admits clients without a login, read only unless
--anonymous-permissions says more. A failed login waits --login-delay seconds; the third
closes the connection. The users file is read at start: restart to apply changes.

Examples:
  bftp serve                          share ./${DEFAULT_FOLDER} on 127.0.0.1:${DEFAULT_PORT}
  bftp serve ~/shared --port 0        any free port; the first line says which
  bftp serve /srv/files --workers 2   two processes sharing the port
  bftp serve . --idle-timeout 60 --max-per-ip 8
  bftp serve /srv/files --anonymous   accounts log in; others may only read

The first line on stdout is always "listening on HOST:PORT". SIGINT or SIGTERM stops
accepting, lets transfers finish for --shutdown-grace seconds, then exits.`,
    )
    .action(async (dir: string, flags: ServeFlags) => {
      await serve(dir, flags);
    });
}

async function serve(dir: string, flags: ServeFlags): Promise<void> {
  const format = flags.logFormat ?? (process.stderr.isTTY ? "text" : "json");
  const log = createLogger({ format, quiet: flags.quiet === true });
  const limits: ServerLimits = {
    ...DEFAULT_LIMITS,
    maxConnections: flags.maxConnections,
    maxPerIp: flags.maxPerIp,
    idleTimeoutMs: flags.idleTimeout,
    frameTimeoutMs: flags.frameTimeout,
    stallTimeoutMs: flags.stallTimeout,
    maxControlFrame: flags.maxControlFrame,
    maxChunk: flags.maxChunk,
    readAheadBytes: flags.readAhead,
    shutdownGraceMs: flags.shutdownGrace,
    loginDelayMs: flags.loginDelay,
  };
  const root = path.resolve(dir);
  let accounts: AccountsOptions;
  try {
    accounts = await accountsOf(flags);
  } catch (err) {
    process.exitCode = reportError(err); // a usage error exits 2, a bad users file 1
    return;
  }
  const shared = { limits, log, accounts };
  if (cluster.isWorker) {
    await runWorker(root, flags, shared);
    return;
  }
  await fs.mkdir(root, { recursive: true });
  const users = accounts.users?.users.length ?? 0;
  log.info("accounts", {
    users,
    anonymous: users === 0 ? "all" : (accounts.anonymous?.join(",") ?? "off"),
  });
  if (!LOOPBACK.has(flags.host)) {
    log.warn("exposed", {
      host: flags.host,
      note:
        users === 0
          ? "anyone who can reach this address can read and write the folder: add accounts with bftp user add"
          : "passwords and files cross the network unencrypted",
    });
  }
  if (flags.workers > 1) {
    await runPrimary(root, flags, limits, log);
    return;
  }
  const server = await BftpServer.start({ root, host: flags.host, port: flags.port, ...shared });
  announce(server, root);
  await stopOnSignal(() => server.close(), log);
}

function announce(server: BftpServer, root: string): void {
  const { address, port } = server.address();
  process.stdout.write(`listening on ${hostPort(address, port)}\n`);
  process.stdout.write(`serving ${root} over BFTP/1; stop with Ctrl-C\n`);
  process.stdout.write(connectHint(address, port));
}

/** How to reach the server, printed after the listening line. */
function connectHint(address: string, port: number): string {
  const host = address === "0.0.0.0" || address === "::" ? "127.0.0.1" : address;
  const where = `bftp://${hostPort(host, port)}`;
  return `connect with: bftp shell ${where}  (or: bftp ls ${where}/)\n`;
}

/** HOST:PORT, with IPv6 addresses in brackets. */
function hostPort(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Resolves after SIGINT/SIGTERM once `stop` finished; a second signal exits at once. */
async function stopOnSignal(stop: () => Promise<void>, log: Logger): Promise<void> {
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  log.info("shutdown", { signal });
  const force = (): never => process.exit(130);
  process.once("SIGINT", force);
  process.once("SIGTERM", force);
  await stop();
}

async function runPrimary(
  root: string,
  flags: ServeFlags,
  limits: ServerLimits,
  log: Logger,
): Promise<void> {
  await sweepTempFiles(root, limits.partialTtlMs, log); // once, before any worker accepts
  // Announce once every worker listens, so the first clients are spread over all of them.
  let listening = 0;
  cluster.on("listening", (_worker, address) => {
    listening++;
    if (listening !== flags.workers) return;
    process.stdout.write(`listening on ${hostPort(address.address, address.port)}\n`);
    process.stdout.write(
      `serving ${root} over BFTP/1 with ${flags.workers} workers; stop with Ctrl-C\n`,
    );
    process.stdout.write(connectHint(address.address, address.port));
  });
  let stopping = false;
  cluster.on("exit", (worker, code, signal) => {
    if (!stopping) log.error("worker-exit", { worker: worker.process.pid ?? null, code, signal });
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(stopping ? 0 : 1);
  });
  for (let i = 0; i < flags.workers; i++) cluster.fork();
  await stopOnSignal(async () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGTERM");
    await new Promise(() => {}); // the "exit" handler ends the process when the last worker is gone
  }, log);
}

/**
 * The accounts of `--config-dir`'s users file (read once, at start) and the anonymous policy
 * of `--anonymous` / `--anonymous-permissions`.
 */
async function accountsOf(flags: ServeFlags): Promise<AccountsOptions> {
  if (flags.anonymousPermissions !== undefined && flags.anonymous !== true) {
    throw usageError("Cannot use --anonymous-permissions without --anonymous");
  }
  const users = await loadUsers(usersFilePath(configDir(flags.configDir)));
  if (flags.anonymous !== true) return { users };
  return { users, anonymous: parsePermissions(flags.anonymousPermissions ?? "read") };
}

async function runWorker(
  root: string,
  flags: ServeFlags,
  shared: { limits: ServerLimits; log: Logger; accounts: AccountsOptions },
): Promise<void> {
  const { log } = shared;
  const server = await BftpServer.start({
    root,
    host: flags.host,
    port: flags.port,
    ...shared,
    sweep: false,
    exclusive: false,
  });
  log.info("worker-listening", { port: server.address().port });
  await stopOnSignal(() => server.close(), log);
  process.exit(0);
}
