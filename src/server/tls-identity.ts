import { X509Certificate, createPrivateKey } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { writePrivateFile } from "../config-dir.js";
import { BftpError } from "../errors.js";
import { certificateFingerprint } from "../protocol/fingerprint.js";
import { createSelfSignedCertificate } from "./self-signed-cert.js";

/** The self-signed certificate's file in the configuration folder. */
export const CERT_FILE = "tls-cert.pem";
/** Its private key's file (mode 0600). */
export const KEY_FILE = "tls-key.pem";

/** Largest certificate chain or key file read (a chain of a few certificates is ~10 KiB). */
const MAX_PEM_BYTES = 1 << 20;

/** What a TLS server presents: the PEM pair, where it came from, and its fingerprint. */
export interface TlsIdentity {
  readonly key: string;
  readonly cert: string;
  /** `SHA256:AA:BB:...`, what clients pin (PROTOCOL.md §1.1). */
  readonly fingerprint: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** True when this call created the pair (first run). */
  readonly created: boolean;
}

/**
 * The server's own certificate in the configuration folder `dir`: created on first use
 * (ECDSA P-256, self-signed; key written atomically with mode 0600, then the certificate),
 * reused afterwards so the fingerprint clients pinned stays valid.
 *
 * A certificate whose key is missing is refused rather than replaced: a new key would change
 * the fingerprint and every client that pinned the old one would refuse the server.
 */
export async function loadOrCreateIdentity(dir: string): Promise<TlsIdentity> {
  const certFile = path.join(dir, CERT_FILE);
  const keyFile = path.join(dir, KEY_FILE);
  if (await exists(certFile)) {
    if (!(await exists(keyFile))) {
      throw new BftpError(
        "BFTP_ERR_LOCAL_FILE",
        `Cannot use the TLS certificate ${JSON.stringify(certFile)}: its key ${JSON.stringify(keyFile)} is missing; restore it, or delete the certificate to make a new one (clients will then see a changed certificate)`,
      );
    }
    return loadIdentity(certFile, keyFile);
  }
  // The key goes first: a certificate on disk always has its key beside it.
  const pair = await createSelfSignedCertificate({ commonName: `bftp ${os.hostname()}` });
  await writePrivateFile(keyFile, pair.key);
  await writePrivateFile(certFile, pair.cert);
  // Read back what is on disk: if another server raced us to create it, theirs is the one.
  return { ...(await loadIdentity(certFile, keyFile)), created: true };
}

/**
 * The operator's own certificate (`--cert`, `--key`): PEM files, the certificate file may
 * hold a chain (the server's certificate first). Checked now, so a wrong pair fails at
 * start-up and not at the first handshake.
 */
export async function loadIdentity(certFile: string, keyFile: string): Promise<TlsIdentity> {
  const cert = await readPem(certFile, "certificate");
  const key = await readPem(keyFile, "key");
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw unusable(certFile, "it holds no PEM certificate", err);
  }
  let matches: boolean;
  try {
    matches = x509.checkPrivateKey(createPrivateKey(key));
  } catch (err) {
    throw unusable(keyFile, "it holds no PEM private key (or one protected by a passphrase)", err);
  }
  if (!matches) throw unusable(keyFile, `it is not the key of ${JSON.stringify(certFile)}`);
  return {
    key,
    cert,
    fingerprint: certificateFingerprint(x509),
    certFile,
    keyFile,
    created: false,
  };
}

async function readPem(file: string, what: string): Promise<string> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, "r");
  } catch (err) {
    throw unusable(file, `cannot open the ${what} file`, err);
  }
  try {
    const { size } = await handle.stat();
    if (size > MAX_PEM_BYTES) throw unusable(file, `larger than ${MAX_PEM_BYTES} bytes`);
    return await handle.readFile("utf8");
  } finally {
    await handle.close();
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.lstat(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw unusable(file, "cannot look at it", err);
  }
}

function unusable(file: string, why: string, cause?: unknown): BftpError {
  const reason = (cause as NodeJS.ErrnoException | undefined)?.code;
  return new BftpError(
    "BFTP_ERR_LOCAL_FILE",
    `Cannot use ${JSON.stringify(file)} for TLS: ${why}${reason === undefined ? "" : ` (${reason})`}`,
    { cause, details: { file } },
  );
}
