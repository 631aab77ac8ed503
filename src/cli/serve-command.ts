import cluster from "node:cluster";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { configDir } from "../config-dir.js";
import { DEFAULT_PORT, DEFAULT_SFTP_PORT, DEFAULT_TLS_PORT } from "../protocol/version.js";
import type { AccountsOptions } from "../server/accounts/accounts.js";
import { parsePermissions } from "../server/accounts/permissions.js";
import { loadUsers, usersFilePath } from "../server/accounts/users-file.js";
import { missingSafeguards } from "../server/listen-policy.js";
import { DEFAULT_LIMITS, type ServerLimits } from "../server/limits.js";
import { createLogger, type Logger } from "../server/logger.js";
import { BftpServer, type ServerOptions } from "../server/server.js";
import { MIN_PART, parseS3Url } from "../server/storage/s3-store.js";
import { UploadStaging } from "../server/upload-staging.js";
import { loadIdentity, loadOrCreateIdentity, type TlsIdentity } from "../server/tls-identity.js";
import { BftpError, isBftpError } from "../errors.js";
import { reportError, usageError } from "./common.js";
import { bytes, integer, seconds, secondsOrZero } from "./options.js";

/** The folder `bftp serve` shares when none is named. */
export const DEFAULT_FOLDER = "bftp-files";

interface ServeFlags {
  host: string;
  port: number | undefined;
  tls: boolean | undefined;
  cert: string | undefined;
  key: string | undefined;
  configDir: string | undefined;
  tempDir: string | undefined;
  handshakeTimeout: number;
  anonymous: boolean | undefined;
  anonymousPermissions: string | undefined;
  loginDelay: number;
  insecure: boolean | undefined;
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
  sftp: boolean | undefined;
  sftpPort: number | undefined;
  s3Endpoint: string | undefined;
  s3PartSize: number | undefined;
  metrics: { host: string; port: number } | undefined;
}

/** `bftp serve [DIR]`: the server, on loopback by default, one or several processes. */
export function serveCommand(): Command {
  const d = DEFAULT_LIMITS;
  return new Command("serve")
    .description("Serve a folder over BFTP/1 (see PROTOCOL.md)")
    .argument(
      "[dir]",
      `folder to serve as "/", created if missing; or s3://BUCKET/PREFIX for an object store`,
      DEFAULT_FOLDER,
    )
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
    .option(
      "--sftp",
      `also serve SFTP (OpenSSH sftp/scp, FileZilla, WinSCP, rclone) on port ${DEFAULT_SFTP_PORT}: the same folder, accounts and permissions`,
    )
    .option(
      "--sftp-port <port>",
      `the SFTP port (implies --sftp); 0 picks a free one (default ${DEFAULT_SFTP_PORT})`,
      integer(0, 65535),
    )
    .option(
      "--s3-endpoint <url>",
      "with s3://BUCKET: an S3-compatible store's endpoint (Ceph RGW, MinIO, Garage); AWS without it",
    )
    .option(
      "--s3-part-size <bytes>",
      "with s3://BUCKET: bytes per multipart part, 5m (S3's floor) to 5g; memory per upload is three parts (default 5m; larger for files over 48 GiB)",
      bytes(MIN_PART, 5 * 1024 ** 3),
    )
    .option(
      "--metrics <host:port>",
      'serve Prometheus metrics at http://HOST:PORT/metrics (port 0 picks one; prints "metrics on HOST:PORT")',
      hostAndPort,
    )
    .option("--cert <file>", "TLS with your own certificate (PEM, chain allowed); needs --key")
    .option("--key <file>", "the private key of --cert (PEM, no passphrase)")
    .option(
      "--config-dir <dir>",
      "the configuration folder: users.json and the self-signed certificate (default $XDG_CONFIG_HOME/bftp or ~/.config/bftp)",
    )
    .option(
      "--temp-dir <dir>",
      "where uploads are written until complete; on the served folder's file system (default: uploads/ in the configuration folder)",
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
    .option(
      "--insecure",
      "listen beyond loopback even without accounts or without TLS (a trusted network only)",
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
closes the connection. The users file is read at start and again on SIGHUP (kill -HUP PID):
new connections use the new accounts; sessions already logged in keep theirs.

Uploads are written to --temp-dir until complete and verified, then moved into place, so
the served folder only ever shows complete files; partial uploads kept for resume (put -c)
live there too. It must be on the served folder's file system for that move: if it is not,
uploads are staged in a hidden .bftp-uploads folder at the top of the served folder, and
serve says so at start.

Beyond loopback (--host 0.0.0.0, a LAN address) serve refuses to start unless it has both
accounts and TLS (--tls or --cert/--key); --insecure overrides that on a trusted network.

Memory: serve keeps V8's young generation at its start size, which keeps its memory low
under many transfers at no cost in speed. To size it yourself, start node with
--max-semi-space-size=N (MiB; also accepted in NODE_OPTIONS), --min-semi-space-size or
--semi-space-growth-factor: serve then leaves V8's sizing alone. It also keeps V8's
collections on its main thread (helper threads cost more CPU than they save for a heap of a
few MB); a V8 flag of your own such as --single-threaded-gc or --concurrent-marking on the
node command line leaves that to you.

Examples:
  bftp serve                          share ./${DEFAULT_FOLDER} on 127.0.0.1:${DEFAULT_PORT}
  bftp serve ~/shared --port 0        any free port; the first line says which
  bftp serve /srv/files --workers 2   two processes sharing the port
  bftp serve . --idle-timeout 60 --max-per-ip 8
  bftp serve /srv/files --anonymous   accounts log in; others may only read
  bftp serve ~/shared --tls           TLS on port ${DEFAULT_TLS_PORT}; prints the certificate's fingerprint
  bftp serve /srv/files --cert /etc/bftp/cert.pem --key /etc/bftp/key.pem

The first line on stdout is always "listening on HOST:PORT". SIGINT or SIGTERM stops
accepting, lets transfers finish for --shutdown-grace seconds, then exits.

SFTP: --sftp also listens for SFTP clients (version 3, as OpenSSH speaks it) and prints
"sftp listening on HOST:PORT" and the host key's fingerprint (SHA256:..., as ssh prints it).
The host key (Ed25519) is made on the first run as ssh_host_ed25519_key (mode 0600, with its
.pub) in the configuration folder and reused. SFTP clients log in with the same accounts
(password, or a key added with bftp user add-key), see the same root and permissions, and an
upload appears only once the client closes it complete. SSH encrypts, so beyond loopback SFTP
needs accounts only; without accounts (loopback), any name and password are let in.
  bftp serve ~/shared --sftp           then: sftp -P ${DEFAULT_SFTP_PORT} NAME@127.0.0.1

Object store: bftp serve s3://BUCKET/PREFIX keeps the files in S3 (or, with --s3-endpoint URL,
an S3-compatible store such as Ceph RGW, MinIO or Garage), credentials from the standard AWS
chain (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_PROFILE). Uploads appear
whole or not at all; partial uploads (put -c) are kept in the store, so several servers
behind a load balancer serve the same files and resume each other's uploads. Renaming a
folder and links are refused there (BFTP_ERR_NOT_SUPPORTED): see docs/scale-out.md.
  bftp serve s3://backups/files --s3-endpoint http://127.0.0.1:7480 --port 0

Operators: --metrics 127.0.0.1:9100 serves Prometheus metrics at /metrics (connections and
sessions by front end, transfers and bytes by direction, errors by code, transfer durations,
process CPU and memory). Logs are JSON lines on stderr when it is not a terminal (or with
--log-format json), one "transfer" line per file or tree moved: docs/operations.md.

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
    loginDelayMs: flags.loginDelay,
  };
  const s3 = dir.startsWith("s3://")
    ? {
        url: dir,
        ...(flags.s3Endpoint === undefined ? {} : { endpoint: flags.s3Endpoint }),
        ...(flags.s3PartSize === undefined ? {} : { partSize: flags.s3PartSize }),
      }
    : undefined;
  if (s3 === undefined && (flags.s3Endpoint !== undefined || flags.s3PartSize !== undefined)) {
    throw usageError(
      "Cannot use --s3-endpoint or --s3-part-size without an s3://BUCKET/PREFIX to serve",
    );
  }
  if (s3 !== undefined) parseS3Url(s3.url); // a bad URL is a usage error before anything starts
  // With an object store no file is written locally: the folder only anchors account roots.
  const root =
    s3 === undefined
      ? path.resolve(dir)
      : await fs.mkdtemp(path.join(os.tmpdir(), "bftp-s3-accounts-"));
  const tempDir = path.resolve(flags.tempDir ?? path.join(configDir(flags.configDir), "uploads"));
  if ((flags.cert === undefined) !== (flags.key === undefined)) {
    throw usageError("Cannot use --cert without --key, or --key without --cert: give both");
  }
  const accounts = await accountsOf(flags);
  const sftp = flags.sftp === true || flags.sftpPort !== undefined;
  if (flags.metrics !== undefined && flags.workers > 1) {
    throw usageError(
      "Cannot use --metrics with --workers: each worker would need a port of its own",
    );
  }
  if (sftp && flags.workers > 1) {
    throw usageError("Cannot use --sftp with --workers: the SFTP front end runs in one process");
  }
  // Made (or read) before any worker starts, so workers share one certificate.
  const identity = await tlsIdentity(flags);
  const listen: Listen = {
    tempDir,
    host: flags.host,
    port: flags.port ?? (identity === undefined ? DEFAULT_PORT : DEFAULT_TLS_PORT),
    identity,
  };
  if (cluster.isWorker) {
    await runWorker(root, listen, { limits, log, accounts, s3, flags });
    return;
  }
  await fs.mkdir(root, { recursive: true });
  const users = accounts.users?.users.length ?? 0;
  log.info("accounts", {
    users,
    anonymous: users === 0 ? "all" : (accounts.anonymous?.join(",") ?? "off"),
  });
  checkExposure(flags, users > 0, identity !== undefined, log);
  // SFTP beyond loopback needs accounts (SSH encrypts): BFTP's rule, which needs both, covers it.
  if (flags.workers > 1) {
    await runPrimary(root, flags.workers, listen, { limits, log, accounts, s3, flags }, dir);
    return;
  }
  const hostKey = sftp
    ? await (
        await import("../server/sftp/host-key.js")
      ).loadOrCreateHostKey(configDir(flags.configDir))
    : undefined;
  const server = await BftpServer.start({
    ...serverOptions(root, listen, { limits, log, accounts, s3, flags }),
    ...(hostKey === undefined
      ? {}
      : { sftp: { port: flags.sftpPort ?? DEFAULT_SFTP_PORT, hostKey } }),
    ...(flags.metrics === undefined ? {} : { metrics: flags.metrics }),
  });
  // Handlers first: a signal sent as soon as the listening line is read must not find the
  // process without them (it would die of the signal's default action, exit code null).
  const stopped = stopOnSignal(() => server.close(), log);
  reloadOnHangup(server, flags, log);
  const { address, port } = server.address();
  announce(address, port, s3 === undefined ? root : s3.url, 1, identity);
  const sftpAddress = server.sftpAddress();
  if (sftpAddress !== undefined && hostKey !== undefined) {
    const origin = hostKey.created ? `created ${hostKey.file}` : hostKey.file;
    const host =
      sftpAddress.address === "0.0.0.0" || sftpAddress.address === "::"
        ? "127.0.0.1"
        : sftpAddress.address;
    process.stdout.write(
      [
        `sftp listening on ${hostPort(sftpAddress.address, sftpAddress.port)}`,
        `sftp host key ${hostKey.fingerprint} (${origin})`,
        `connect with: sftp -P ${sftpAddress.port} NAME@${host.includes(":") ? `[${host}]` : host}`,
      ].join("\n") + "\n",
    );
  }
  const metrics = server.metricsAddress();
  if (metrics !== undefined) {
    process.stdout.write(`metrics on ${hostPort(metrics.address, metrics.port)}\n`);
  }
  await stopped;
  if (s3 !== undefined) await fs.rm(root, { recursive: true, force: true });
}

/** Where and how to listen: the same in the primary and every worker. */
interface Listen {
  /** The staging folder for uploads (`--temp-dir`). */
  readonly tempDir: string;
  readonly host: string;
  readonly port: number;
  readonly identity: TlsIdentity | undefined;
}

/** What the primary hands every server it starts, besides where to listen. */
interface Shared {
  readonly limits: ServerLimits;
  readonly log: Logger;
  readonly accounts: AccountsOptions;
  /** An object store to serve instead of the folder (issue 15). */
  readonly s3: ServerOptions["s3"];
  /** The command line's flags (SIGHUP reads the users file they name again). */
  readonly flags: ServeFlags;
}

function serverOptions(root: string, listen: Listen, shared: Shared): ServerOptions {
  const { host, port, identity, tempDir } = listen;
  return {
    root,
    host,
    port,
    tempDir,
    limits: shared.limits,
    log: shared.log,
    accounts: shared.accounts,
    ...(shared.s3 === undefined ? {} : { s3: shared.s3 }),
    ...(identity === undefined ? {} : { tls: identity }),
  };
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

/**
 * Refuses to listen beyond loopback without accounts and TLS (issue 7), unless `--insecure`
 * says the network is trusted; then it only warns.
 */
function checkExposure(flags: ServeFlags, accounts: boolean, tls: boolean, log: Logger): void {
  const missing = missingSafeguards({ host: flags.host, accounts, tls });
  if (missing.length === 0) return;
  const what = missing
    .map((m) =>
      m === "accounts"
        ? "no accounts, so anyone who reaches the port may read and write (add them with: bftp user add NAME)"
        : "no TLS, so passwords and files cross the network in clear (add --tls)",
    )
    .join("; and ");
  if (flags.insecure === true) {
    log.warn("exposed", { host: flags.host, missing: missing.join(","), note: what });
    return;
  }
  throw new BftpError(
    "BFTP_ERR_UNSAFE_LISTEN",
    `Cannot listen on ${flags.host}, beyond loopback, with ${what}. Fix that, listen on 127.0.0.1, or pass --insecure on a trusted network`,
    { details: { host: flags.host, missing: missing.join(",") } },
  );
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

/** `--metrics HOST:PORT` ([::1]:PORT for IPv6); a usage error otherwise. */
function hostAndPort(value: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value);
  const port = Number(match?.[3]);
  const host = match?.[1] ?? match?.[2];
  if (host === undefined || !Number.isInteger(port) || port > 65535) {
    throw new InvalidArgumentError("expected HOST:PORT, such as 127.0.0.1:9100 or [::1]:0");
  }
  return { host, port };
}

/** HOST:PORT, with IPv6 addresses in brackets. */
function hostPort(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * SIGHUP reads the users file again (issue 15: nodes sharing one users file on shared
 * storage). New connections use the new accounts; a file that cannot be read or checked is
 * logged and the old accounts stay.
 */
function reloadOnHangup(server: BftpServer, flags: ServeFlags, log: Logger): void {
  process.on("SIGHUP", () => {
    accountsOf(flags)
      .then(async (accounts) => {
        await server.reloadAccounts(accounts);
        log.info("accounts-reloaded", { users: accounts.users?.users.length ?? 0 });
      })
      .catch((err: unknown) => {
        log.error("accounts-reload-failed", {
          error: isBftpError(err) ? err.code : "BFTP_ERR_INTERNAL",
          reason: err instanceof Error ? err.message : String(err),
        });
      });
  });
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
  shared: Shared,
  served: string,
): Promise<void> {
  const { limits, log } = shared;
  // Once, before any worker accepts: a sweep must never remove a live worker's upload.
  const real = await fs.realpath(root);
  await UploadStaging.prepare({ dir: listen.tempDir, root: real, log, ttlMs: limits.partialTtlMs });
  // Announce once every worker listens, so the first clients are spread over all of them.
  let listening = 0;
  cluster.on("listening", (_worker, address) => {
    listening++;
    if (listening !== workers) return;
    announce(
      address.address,
      address.port,
      shared.s3 === undefined ? root : served,
      workers,
      listen.identity,
    );
  });
  let stopping = false;
  // Counted here: cluster drops a worker from cluster.workers only once it has both exited
  // and disconnected, in either order, so the last 'exit' could still see it listed, and the
  // primary then waited on nothing (exit code 13, an unsettled top-level await).
  let alive = workers;
  cluster.on("exit", (worker, code, signal) => {
    if (!stopping) log.error("worker-exit", { worker: worker.process.pid ?? null, code, signal });
    alive--;
    if (alive === 0) process.exit(stopping ? 0 : 1);
  });
  for (let i = 0; i < workers; i++) cluster.fork();
  process.on("SIGHUP", () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGHUP");
  });
  await stopOnSignal(async () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill("SIGTERM");
    await new Promise(() => {}); // the "exit" handler ends the process when the last worker is gone
  }, log);
}

async function runWorker(root: string, listen: Listen, shared: Shared): Promise<void> {
  const { log } = shared;
  const server = await BftpServer.start({
    ...serverOptions(root, listen, shared),
    sweep: false,
    exclusive: false,
  });
  log.info("worker-listening", { port: server.address().port });
  reloadOnHangup(server, shared.flags, log);
  await stopOnSignal(() => server.close(), log);
  process.exit(0);
}
