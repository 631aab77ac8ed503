import { KeyObject, randomBytes, webcrypto } from "node:crypto";

/**
 * RFC 5280 §4.1.2.5: "no well-defined expiration date". The certificate is trusted by its
 * pinned fingerprint (like an ssh host key), not by dates; an expiry would only break every
 * client one day without making anything safer.
 */
const NO_EXPIRY = new Date(Date.UTC(9999, 11, 31, 23, 59, 59));

/** ECDSA P-256 signing with SHA-256, as Web Crypto names it. */
const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

/** A certificate and its private key, both PEM. */
export interface CertificatePair {
  /** PKCS#8 private key, PEM. */
  readonly key: string;
  /** X.509 certificate, PEM. */
  readonly cert: string;
}

/** Options for {@link createSelfSignedCertificate}. */
export interface SelfSignedOptions {
  /** The subject's common name (default `"bftp"`). */
  readonly commonName?: string;
  /** Start of validity (default: now less one hour, for clocks that lag). */
  readonly notBefore?: Date;
}

/**
 * Creates an ECDSA P-256 key and a self-signed X.509 v3 certificate for it, signed with
 * SHA-256: a server certificate (basicConstraints CA:FALSE, keyUsage digitalSignature,
 * extKeyUsage serverAuth) valid from `notBefore` with no expiry (RFC 5280's 99991231235959Z).
 *
 * The certificate is encoded by @peculiar/x509 (a reviewed, maintained X.509 library, issue
 * 11) over Node's own Web Crypto, which makes the key and the signature; it is loaded only
 * when a certificate is made, so the client and a server with a certificate never load it.
 *
 * @example
 * const { key, cert } = await createSelfSignedCertificate({ commonName: "files.local" });
 * tls.createServer({ key, cert, minVersion: "TLSv1.2" });
 */
export async function createSelfSignedCertificate(
  options: SelfSignedOptions = {},
): Promise<CertificatePair> {
  const x509 = await loadX509();
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serialNumber(),
      // Issuer too (self-signed). A UTF8String given as such: a plain string would be read
      // as escaped DN text, and quotes or backslashes in it mangled.
      name: new x509.Name([{ CN: [{ utf8String: options.commonName ?? "bftp" }] }]),
      notBefore: options.notBefore ?? new Date(Date.now() - 3600_000),
      notAfter: NO_EXPIRY,
      signingAlgorithm: ALGORITHM,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      ],
    },
    webcrypto,
  );
  return {
    key: KeyObject.from(keys.privateKey).export({ type: "pkcs8", format: "pem" }).toString(),
    cert: certificate.toString("pem"),
  };
}

/**
 * @peculiar/x509, with the Reflect metadata polyfill its dependency injection (tsyringe)
 * needs loaded first. The polyfill adds `Reflect.metadata` and kin to the process's Reflect;
 * it changes nothing that exists.
 */
async function loadX509(): Promise<typeof import("@peculiar/x509")> {
  await import("reflect-metadata");
  return import("@peculiar/x509");
}

/** A positive 127-bit random serial, never with a leading zero byte (RFC 5280 §4.1.2.2), hex. */
function serialNumber(): string {
  const serial = randomBytes(16);
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x40;
  return serial.toString("hex");
}
