import { randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { AccountsOptions } from "../../src/server/accounts/accounts.js";
import type { ServerLimits } from "../../src/server/limits.js";
import {
  createSelfSignedCertificate,
  type CertificatePair,
} from "../../src/server/self-signed-cert.js";
import { BftpServer } from "../../src/server/server.js";
import { UploadStaging } from "../../src/server/upload-staging.js";
import { testTls } from "./protocol-connection.js";
import {
  diskFiles,
  s3Backing,
  testBackend,
  type S3Backing,
  type TestBackend,
  type TestFiles,
} from "./test-files.js";

let certificate: Promise<CertificatePair> | undefined;

/** One self-signed certificate for every TLS test server of this process. */
export function testCertificate(): Promise<CertificatePair> {
  certificate ??= createSelfSignedCertificate({ commonName: "bftp test" });
  return certificate;
}

/**
 * A server on 127.0.0.1 port 0 serving a fresh temporary folder, and that folder's parent; or,
 * on the S3 backend, a fresh bucket (the folder then stays empty: it only anchors account
 * roots).
 */
export interface TestServer {
  readonly server: BftpServer;
  readonly port: number;
  /** Where the files live: the root folder, or an S3 bucket. */
  readonly backend: TestBackend;
  /** The served files, backend-neutral: for fixtures and checks (test-files.ts). */
  readonly files: TestFiles;
  /** The bucket on the S3 backend (its client, name and prefix), else undefined. */
  readonly s3: S3Backing | undefined;
  /** Real path of the served root (on S3, an empty folder: use `files`). */
  readonly root: string;
  /** Real path of a folder beside the root (outside it): for canaries. */
  readonly outside: string;
  /**
   * Real path of the server's upload staging folder, inside a temporary folder of its own (not
   * beside the root: tests snapshot the root's parent to check nothing outside changed).
   */
  readonly staging: string;
  /** The server's certificate when it speaks TLS. */
  readonly tls: CertificatePair | undefined;
  /** Stops the server and removes both folders (and the bucket). */
  readonly stop: () => Promise<void>;
}

/**
 * Starts a server for one test; `limits` override the defaults (short timeouts, small caps);
 * `options.accounts` gives it accounts (none by default: anyone may do everything). It speaks
 * TLS with `tls: true`, or when BFTP_TEST_TLS=1 (test/server/tls-sessions.test.ts runs server
 * tests that way; ProtocolConnection then connects with TLS too). It serves an S3 bucket
 * with `backend: "s3"`, or when BFTP_TEST_BACKEND=s3 (test/server/s3-sessions.test.ts):
 * `s3://<fresh bucket>/files` on the test gateway, with `s3PartSize` if given.
 */
export async function startServer(
  limits: Partial<ServerLimits> = {},
  options: {
    readonly accounts?: AccountsOptions;
    readonly tls?: boolean;
    readonly backend?: TestBackend;
    readonly s3PartSize?: number;
  } = {},
): Promise<TestServer> {
  const base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-test-")));
  const root = path.join(base, "root");
  const outside = path.join(base, "outside");
  await fs.mkdir(root);
  await fs.mkdir(outside);
  const temp = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-test-temp-")));
  const tls = (options.tls ?? testTls()) ? await testCertificate() : undefined;
  const backend = options.backend ?? testBackend();
  const s3 = backend === "s3" ? await s3Backing("bftp-test") : undefined;
  let server: BftpServer;
  try {
    server = await BftpServer.start({
      root,
      port: 0,
      tempDir: temp,
      limits: { shutdownGraceMs: 2000, ...limits },
      ...(options.accounts === undefined ? {} : { accounts: options.accounts }),
      ...(tls === undefined ? {} : { tls }),
      ...(s3 === undefined
        ? {}
        : {
            s3: {
              url: s3.url,
              endpoint: s3.gateway.endpoint,
              ...(options.s3PartSize === undefined ? {} : { partSize: options.s3PartSize }),
            },
          }),
    });
  } catch (err) {
    await s3?.remove();
    throw err;
  }
  const staging = UploadStaging.folderFor(temp, root);
  return {
    server,
    port: server.address().port,
    backend,
    files: s3?.files ?? diskFiles(root, staging),
    s3,
    root,
    outside,
    staging,
    tls,
    stop: async () => {
      await server.close();
      await s3?.remove();
      await fs.rm(base, { recursive: true, force: true });
      await fs.rm(temp, { recursive: true, force: true });
    },
  };
}

/** The upload files in a test server's staging folder now (none if the folder is gone). */
export function stagedUploads(srv: TestServer): string[] {
  try {
    return readdirSync(srv.staging);
  } catch {
    return [];
  }
}

/** Writes `size` random bytes to `name` in a test server's root; resolves with those bytes. */
export async function randomFileIn(srv: TestServer, name: string, size: number): Promise<Buffer> {
  const bytes = randomBytes(size);
  await fs.writeFile(path.join(srv.root, name), bytes);
  return bytes;
}

/**
 * A test server holding `big.bin` (24 MiB + 13 bytes) and `small.bin` (3 MiB + 5), random:
 * sizes that span many frames, slabs and socket reads, and end mid-frame.
 */
export async function serveBigAndSmall(): Promise<{ srv: TestServer; big: Buffer; small: Buffer }> {
  const srv = await startServer();
  const big = await randomFileIn(srv, "big.bin", 24 * 1024 * 1024 + 13);
  const small = await randomFileIn(srv, "small.bin", 3 * 1024 * 1024 + 5);
  return { srv, big, small };
}
