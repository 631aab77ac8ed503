import cluster from "node:cluster";
import fs from "node:fs/promises";
import path from "node:path";
import { Command, Option } from "commander";
import { configDir } from "../config-dir.js";
import { DEFAULT_PORT, DEFAULT_TLS_PORT } from "../protocol/version.js";
import { DEFAULT_LIMITS, type ServerLimits } from "../server/limits.js";
import { createLogger, type Logger } from "../server/logger.js";
import { BftpServer, type ServerOptions } from "../server/server.js";
import { sweepTempFiles } from "../server/temp-files.js";
import { loadIdentity, loadOrCreateIdentity, type TlsIdentity } from "../server/tls-identity.js";
import { isBftpError } from "../errors.js";
import { reportError, usageError } from "./common.js";
import { bytes, integer, seconds } from "./options.js";

/** The folder `bftp serve` shares when none is named. */
export const DEFAULT_FOLDER = "bftp-files";

interface ServeFlags {
  host: string;
  port: number | undefined;
  tls: boolean | undefined;
  cert: string | undefined;
  key: string | undefined;
  configDir: string | undefined;
  handshakeTimeout: number;
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
    .option(
      "-p, --port <port>",
      `TCP port; 0 picks a free one (default ${DEFAULT_PORT}, ${DEFAULT_TLS_PORT} with --tls)`,
      integer(0, 65535),
    )
    .option(
      "--tls",
      "speak TLS 1.2+ (bftps://) with a self-signed certificate, made on the first run in the configuration folder and reused",
    )
    .option("--cert <file>", "TLS with your own certificate (PEM, chain allowed); needs --key")
    .option("--key <file>", "the private key of --cert (PEM, no passphrase)")
    .option(
      "--config-dir <dir>",
      "where the self-signed certificate lives (default $XDG_CONFIG_HOME/bftp or ~/.config/bftp)",
    )
    .addOption(
      new Option(
        "--handshake-timeout <seconds>",
        "TLS: close a connection not through its handshake by then",
      )
        .argParser(seconds)
        .default(d.handshakeTimeoutMs, `${d.handshakeTimeoutMs / 1000}`),
    )
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
    .addHelpText(
      "after",
      `
Timeouts are in seconds (fractions allowed); sizes accept k, m, g suffixes.

Examples:
  bftp serve                          share ./${DEFAULT_FOLDER} on 127.0.0.1:${DEFAULT_PORT}
  bftp serve ~/shared --port 0        any free port; the first line says which
  bftp serve /srv/files --workers 2   two processes sharing the port
  bftp serve . --idle-timeout 60 --max-per-ip 8
  bftp serve ~/shared --tls           TLS on port ${DEFAULT_TLS_PORT}; prints the certificate's fingerprint
  bftp serve /srv/files --cert /etc/bftp/cert.pem --key /etc/bftp/key.pem

The first line on stdout is always "listening on HOST:PORT". SIGINT or SIGTERM stops
accepting, lets transfers finish for --shutdown-grace seconds, then exits.

TLS: the first run with --tls writes tls-key.pem (mode 0600) and tls-cert.pem to the
configuration folder; later runs reuse them, so the fingerprint clients pinned stays valid.
Give clients the printed SHA256:... fingerprint: they compare it on first contact.`,
    )
    .action(async (dir: string, flags: ServeFlags) => {
      try {
        await serve(dir, flags);
      } catch (err) {
        // A bad --cert, a certificate that cannot be written: one line with its code.
        if (!isBftpError(err)) throw err;
        process.exitCode = reportError(err);
      }
    });
}

async function serve(dir: string, flags: ServeFlags): Promise<void> {
  const format = flags.logFormat ?? (process.stderr.isTTY ? "text" : "json");
  const log = createLogger({ format, quiet: flags.quiet === true });
  const limits: ServerLimits = {
    ...DEFAULT_LIMITS,
    maxConnections: flags.maxConnections,
    maxPerIp: flags.maxPerIp,
    handshakeTimeoutMs: flags.handshakeTimeout,
    idleTimeoutMs: flags.idleTimeout,
    frameTimeoutMs: flags.frameTimeout,
    stallTimeoutMs: flags.stallTimeout,
    maxControlFrame: flags.maxControlFrame,
    maxChunk: flags.maxChunk,
    readAheadBytes: flags.readAhead,
    shutdownGraceMs: flags.shutdownGrace,
  };
  const root = path.resolve(dir);
  if ((flags.cert === undefined) !== (flags.key === undefined)) {
    throw usageError("Cannot use --cert without --key, or --key without --cert: give both");
  }
  // Made (or read) before any worker starts, so workers share one certificate.
  const identity = await tlsIdentity(flags);
  const listen: Listen = {
    host: flags.host,
    port: flags.port ?? (identity === undefined ? DEFAULT_PORT : DEFAULT_TLS_PORT),
    identity,
  };
  if (cluster.isWorker) {
    await runWorker(root, listen, limits, log);
    return;
  }
  await fs.mkdir(root, { recursive: true });
  if (!LOOPBACK.has(flags.host)) {
    log.warn("exposed", {
      host: flags.host,
      note:
        identity === undefined
          ? "anyone who can reach this address can read and write the folder, in clear text (--tls encrypts); accounts are not in this build"
          : "anyone who can reach this address can read and write the folder; accounts are not in this build",
    });
  }
  if (flags.workers > 1) {
    await runPrimary(root, flags.workers, listen, limits, log);
    return;
  }
  const server = await BftpServer.start(serverOptions(root, listen, limits, log));
  // Handlers first: a signal sent as soon as the listening line is read must not find the
  // process without them (it would die of the signal's default action, exit code null).
  const stopped = stopOnSignal(() => server.close(), log);
  const { address, port } = server.address();
  announce(address, port, root, 1, identity);
  await stopped;
}

/** Where and how to listen: the same in the primary and every worker. */
interface Listen {
  readonly host: string;
  readonly port: number;
  readonly identity: TlsIdentity | undefined;
}

function serverOptions(
  root: string,
  listen: Listen,
  limits: ServerLimits,
  log: Logger,
): ServerOptions {
  const { host, port, identity } = listen;
  return { root, host, port, limits, log, ...(identity === undefined ? {} : { tls: identity }) };
}

/** The certificate to serve with: the operator's, the self-signed one, or none (no TLS). */
async function tlsIdentity(flags: ServeFlags): Promise<TlsIdentity | undefined> {
  if (flags.cert !== undefined && flags.key !== undefined) {
    return loadIdentity(path.resolve(flags.cert), path.resolve(flags.key));
  }
  if (flags.tls !== true) return undefined;
  return loadOrCreateIdentity(configDir(flags.configDir));
}

/** The start-up lines on stdout; the first is always `listening on HOST:PORT`. */
function announce(
  address: string,
  port: number,
  root: string,
  workers: number,
  identity: TlsIdentity | undefined,
): void {
  const how = [
    identity === undefined ? "" : " with TLS",
    workers > 1 ? `, ${workers} workers` : "",
  ];
  const lines = [
    `listening on ${hostPort(address, port)}`,
    `serving ${root} over BFTP/1${how.join("")}; stop with Ctrl-C`,
  ];
  if (identity !== undefined) {
    const origin = identity.created ? `created ${identity.certFile}` : identity.certFile;
    lines.push(`certificate fingerprint ${identity.fingerprint} (${origin})`);
  }
  const host = address === "0.0.0.0" || address === "::" ? "127.0.0.1" : address;
  const where = `${identity === undefined ? "bftp" : "bftps"}://${hostPort(host, port)}`;
  lines.push(`connect with: bftp shell ${where}  (or: bftp ls ${where}/)`);
  process.stdout.write(`${lines.join("\n")}\n`);
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
  workers: number,
  listen: Listen,
  limits: ServerLimits,
  log: Logger,
): Promise<void> {
  await sweepTempFiles(root, limits.partialTtlMs, log); // once, before any worker accepts
  // Announce once every worker listens, so the first clients are spread over all of them.
  let listening = 0;
  cluster.on("listening", (_worker, address) => {
    listening++;
    if (listening !== workers) return;
    announce(address.address, address.port, root, workers, listen.identity);
  });
  let stopping = false;
  cluster.on("exit", (worker, code, signal) => {
    if (!stopping) log.error("worker-exit", { worker: worker.process.pid ?? null, code, signal });
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(stopping ? 0 : 1);
  });
  for (let i = 0; i < workers; i++) cluster.fork();
  await stopOnSignal(async () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGTERM");
    await new Promise(() => {}); // the "exit" handler ends the process when the last worker is gone
  }, log);
}

async function runWorker(
  root: string,
  listen: Listen,
  limits: ServerLimits,
  log: Logger,
): Promise<void> {
  const server = await BftpServer.start({
    ...serverOptions(root, listen, limits, log),
    sweep: false,
    exclusive: false,
  });
  log.info("worker-listening", { port: server.address().port });
  await stopOnSignal(() => server.close(), log);
  process.exit(0);
}
