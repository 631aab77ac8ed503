import type tls from "node:tls";
import { BftpError } from "../errors.js";
import { certificateFingerprint, parseFingerprint } from "../protocol/fingerprint.js";
import { addKnownHost, defaultKnownHostsFile, hostKey, readKnownHosts } from "./known-hosts.js";

/** A server seen for the first time, for {@link TlsOptions.onUnknownHost}. */
export interface UnknownHost {
  /** `host:port` as it will be written in known_hosts. */
  readonly host: string;
  /** `SHA256:AA:BB:...` of the certificate the server presented. */
  readonly fingerprint: string;
  /** The known_hosts file it will be added to. */
  readonly knownHosts: string;
}

/**
 * How a TLS client decides to trust the server (docs/security.md). bftp pins
 * certificates, like ssh pins host keys, instead of asking certificate authorities: the
 * server's certificate is usually self-signed.
 */
export interface TlsOptions {
  /**
   * Trust only this certificate (`SHA256:AA:BB:...`, as `bftp serve --tls` prints it; the
   * prefix and colons are optional). known_hosts is then neither read nor written.
   */
  readonly fingerprint?: string;
  /** The known_hosts file (default `known_hosts` in the configuration folder). */
  readonly knownHosts?: string;
  /**
   * Asked on first contact with a server known_hosts does not list: resolve true to trust it
   * (it is then added to known_hosts), false to refuse. Without it, unknown servers are
   * refused with `BFTP_ERR_HOST_UNKNOWN`. A server whose certificate changed is refused with
   * `BFTP_ERR_HOST_KEY_CHANGED` and never asked about.
   */
  readonly onUnknownHost?: (host: UnknownHost) => boolean | Promise<boolean>;
}

/**
 * Checks the certificate the server presented on `socket` (the handshake is done, nothing
 * has been sent) against the pinned fingerprint or known_hosts; throws when it may not be
 * trusted. Runs before HELLO, so nothing, not even a user name, reaches an impostor.
 */
export async function checkServerCertificate(
  socket: tls.TLSSocket,
  target: { readonly host: string; readonly port: number },
  options: TlsOptions = {},
): Promise<void> {
  const host = hostKey(target.host, target.port);
  const cert = socket.getPeerX509Certificate();
  if (cert === undefined) {
    throw new BftpError(
      "BFTP_ERR_HOST_UNKNOWN",
      `Cannot connect to ${host}: the server presented no certificate`,
    );
  }
  const actual = certificateFingerprint(cert);
  if (options.fingerprint !== undefined) {
    const expected = parseFingerprint(options.fingerprint);
    if (expected === undefined) {
      throw new BftpError(
        "BFTP_ERR_INVALID_ARGUMENT",
        `Cannot use ${JSON.stringify(options.fingerprint)} as a fingerprint: expected SHA256: and 32 bytes of hex`,
      );
    }
    if (actual !== expected) {
      throw new BftpError(
        "BFTP_ERR_HOST_KEY_CHANGED",
        `Cannot connect to ${host}: ITS CERTIFICATE IS NOT THE ONE EXPECTED (expected ${expected}, got ${actual}); someone may be intercepting the connection`,
        { details: { host, expected, actual } },
      );
    }
    return;
  }
  const file = options.knownHosts ?? defaultKnownHostsFile();
  const pinned = (await readKnownHosts(file)).filter((entry) => entry.host === host);
  if (pinned.some((entry) => entry.fingerprint === actual)) return;
  const first = pinned[0];
  if (first !== undefined) {
    throw new BftpError(
      "BFTP_ERR_HOST_KEY_CHANGED",
      `Cannot connect to ${host}: ITS CERTIFICATE HAS CHANGED, someone may be intercepting the connection (pinned ${first.fingerprint} on line ${first.line} of ${JSON.stringify(file)}, got ${actual}); if the server really has a new certificate, delete line ${first.line} of ${JSON.stringify(file)} and connect again`,
      { details: { host, file, line: first.line, expected: first.fingerprint, actual } },
    );
  }
  const unknown = { host, fingerprint: actual, knownHosts: file };
  if (options.onUnknownHost === undefined || !(await options.onUnknownHost(unknown))) {
    throw new BftpError(
      "BFTP_ERR_HOST_UNKNOWN",
      `Cannot connect to ${host}: its certificate ${actual} is not in ${JSON.stringify(file)}${options.onUnknownHost === undefined ? "" : " and was not accepted"}`,
      { details: { host, file, actual } },
    );
  }
  await addKnownHost(file, host, actual);
}
