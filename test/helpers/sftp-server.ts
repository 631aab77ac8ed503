import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import ssh2, { type Client, type ClientChannel, type SFTPWrapper } from "ssh2";
import type { AccountsOptions } from "../../src/server/accounts/accounts.js";
import type { ServerLimits } from "../../src/server/limits.js";
import { BftpServer } from "../../src/server/server.js";
import { loadOrCreateHostKey, type HostKey } from "../../src/server/sftp/host-key.js";
import type { SftpChannelLimits } from "../../src/server/sftp/sftp-channel.js";
import { UploadStaging } from "../../src/server/upload-staging.js";
import {
  diskFiles,
  s3Backing,
  testBackend,
  type S3Backing,
  type TestBackend,
  type TestFiles,
} from "./test-files.js";

/**
 * A server with its SFTP front end on 127.0.0.1, both on port 0, serving a fresh folder (or,
 * with BFTP_TEST_BACKEND=s3, a fresh bucket: see bftp-server.ts).
 */
export interface SftpTestServer {
  readonly server: BftpServer;
  /** The SFTP port. */
  readonly port: number;
  /** The BFTP port. */
  readonly bftpPort: number;
  /** Where the files live: the root folder, or an S3 bucket. */
  readonly backend: TestBackend;
  /** The served files, backend-neutral: for fixtures and checks (test-files.ts). */
  readonly files: TestFiles;
  /** The bucket on the S3 backend, else undefined. */
  readonly s3: S3Backing | undefined;
  /** The served folder (on S3, an empty folder: use `files`). */
  readonly root: string;
  /** A folder beside the root (outside it), for canaries. */
  readonly outside: string;
  readonly staging: string;
  readonly hostKey: HostKey;
  readonly stop: () => Promise<void>;
}

/** Starts a server with SFTP for one test (short grace; limits and accounts as given). */
export async function startSftpServer(
  options: {
    readonly limits?: Partial<ServerLimits>;
    readonly accounts?: AccountsOptions;
    readonly channelLimits?: SftpChannelLimits;
    readonly backend?: TestBackend;
  } = {},
): Promise<SftpTestServer> {
  const base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-sftp-")));
  const root = path.join(base, "root");
  const outside = path.join(base, "outside");
  const config = path.join(base, "config");
  await fs.mkdir(root);
  await fs.mkdir(outside);
  const temp = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-sftp-temp-")));
  const hostKey = await loadOrCreateHostKey(config);
  const backend = options.backend ?? testBackend();
  const s3 = backend === "s3" ? await s3Backing("bftp-sftp") : undefined;
  let server: BftpServer;
  try {
    server = await BftpServer.start({
      root,
      port: 0,
      tempDir: temp,
      limits: { shutdownGraceMs: 1000, ...options.limits },
      ...(options.accounts === undefined ? {} : { accounts: options.accounts }),
      sftp: {
        port: 0,
        hostKey,
        ...(options.channelLimits === undefined ? {} : { channelLimits: options.channelLimits }),
      },
      ...(s3 === undefined ? {} : { s3: { url: s3.url, endpoint: s3.gateway.endpoint } }),
    });
  } catch (err) {
    await s3?.remove();
    throw err;
  }
  const staging = UploadStaging.folderFor(temp, root);
  return {
    server,
    port: server.sftpAddress()?.port ?? 0,
    bftpPort: server.address().port,
    backend,
    files: s3?.files ?? diskFiles(root, staging),
    s3,
    root,
    outside,
    staging,
    hostKey,
    stop: async () => {
      await server.close();
      await s3?.remove();
      await fs.rm(base, { recursive: true, force: true });
      await fs.rm(temp, { recursive: true, force: true });
    },
  };
}

/** An ssh2 client logged in, with its SFTP session. */
export interface SftpTestClient {
  readonly client: Client;
  readonly sftp: SFTPWrapper;
  /** Ends the connection and waits for it to close. */
  readonly end: () => Promise<void>;
}

/** Options for {@link connectSftp}. */
export interface ConnectOptions {
  readonly username?: string;
  readonly password?: string;
  readonly privateKey?: string;
}

/**
 * Connects to `port` with ssh2's client, checks the host key against `hostKey` (a wrong key
 * fails the connection), logs in and opens the sftp subsystem (10 s deadline).
 */
export async function connectSftp(
  port: number,
  hostKey: HostKey,
  options: ConnectOptions = {},
): Promise<SftpTestClient> {
  const client = await connectSsh(port, hostKey, options);
  const sftp = await new Promise<SFTPWrapper>((resolve, reject) => {
    client.sftp((err, s) => {
      if (err !== undefined) reject(err);
      else resolve(s);
    });
  });
  return { client, sftp, end: () => endClient(client) };
}

/** An SSH connection, logged in, before any channel. */
export async function connectSsh(
  port: number,
  hostKey: HostKey,
  options: ConnectOptions = {},
): Promise<Client> {
  const client = new ssh2.Client();
  const expected = hostKey.publicLine.split(" ")[1] ?? "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.end();
      reject(new Error("no SSH login within 10 s"));
    }, 10_000);
    client.once("ready", () => {
      clearTimeout(timer);
      resolve();
    });
    client.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    client.connect({
      host: "127.0.0.1",
      port,
      username: options.username ?? "anyone",
      ...(options.password === undefined ? {} : { password: options.password }),
      ...(options.privateKey === undefined ? {} : { privateKey: options.privateKey }),
      hostVerifier: (key: Buffer) => key.toString("base64") === expected,
      readyTimeout: 10_000,
    });
  });
  return client;
}

/** The raw `sftp` subsystem channel, for hand-made packets. */
export function rawSubsystem(client: Client): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    client.subsys("sftp", (err, channel) => {
      if (err !== undefined) reject(err);
      else resolve(channel);
    });
  });
}

function endClient(client: Client): Promise<void> {
  return new Promise((resolve) => {
    const sock = (client as unknown as { _sock?: { destroyed?: boolean } })._sock;
    if (sock === undefined || sock.destroyed === true) {
      resolve();
      return;
    }
    client.once("close", () => {
      resolve();
    });
    client.end();
  });
}

/** The SFTP status an ssh2 client error carries: its `code` (a number) and message. */
export function sftpStatus(err: unknown): { code: number; message: string } {
  const e = err as { code?: unknown; message?: unknown };
  return {
    code: typeof e.code === "number" ? e.code : -1,
    message: typeof e.message === "string" ? e.message : "",
  };
}

/** Calls an ssh2 SFTP method and resolves with its result (or rejects with its status). */
export function call<T>(
  fn: (cb: (err: Error | null | undefined, value?: T) => void) => void,
): Promise<T> {
  return new Promise((resolve, reject) => {
    fn((err, value) => {
      if (err !== undefined && err !== null) reject(err);
      else resolve(value as T);
    });
  });
}

export const STATUS = ssh2.utils.sftp.STATUS_CODE;
export const OPEN_MODE = ssh2.utils.sftp.OPEN_MODE;

/**
 * Asserts that `promise` rejects with SFTP status `status` whose message begins with the
 * stable BFTP code `code` (the SFTP front end's messages start with it).
 */
export async function rejectsWithStatus(
  promise: Promise<unknown>,
  status: number,
  code: string,
): Promise<void> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  if (caught === undefined)
    throw new Error(`expected SFTP status ${status} (${code}), got success`);
  const { code: got, message } = sftpStatus(caught);
  const bftp = /^(BFTP_ERR_[A-Z_]+)/.exec(message)?.[1];
  if (got !== status || bftp !== code) {
    throw new Error(`expected SFTP status ${status} (${code}), got ${got} (${bftp ?? message})`);
  }
}
