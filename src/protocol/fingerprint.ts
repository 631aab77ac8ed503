import type { X509Certificate } from "node:crypto";
import { nodeCrypto } from "../node-crypto.js";

/** What a fingerprint is written with: the algorithm, then 32 bytes in hex pairs. */
const PREFIX = "SHA256:";

/**
 * The SHA-256 fingerprint of a certificate (PROTOCOL.md §1.1), as bftp prints and pins it:
 * `SHA256:` then the 32 bytes of the hash of the DER certificate, upper-case hex pairs joined
 * by colons, the form `openssl x509 -noout -fingerprint -sha256` prints after its `=`.
 *
 * @example
 * certificateFingerprint(fs.readFileSync("tls-cert.pem")); // "SHA256:3F:A1:...:09"
 */
export function certificateFingerprint(cert: X509Certificate | string | Buffer): string {
  const { X509Certificate: Certificate } = nodeCrypto();
  const x509 = cert instanceof Certificate ? cert : new Certificate(cert);
  return `${PREFIX}${x509.fingerprint256}`;
}

/**
 * Reads a fingerprint written by a person or a file: the `SHA256:` prefix optional, colons
 * optional, any case. Returns the canonical form of {@link certificateFingerprint}, or
 * undefined when `text` is not 32 bytes of hex.
 */
export function parseFingerprint(text: string): string | undefined {
  const body = text.trim().replace(/^sha256:/i, "");
  const hex = body.includes(":") ? body.split(":") : body.match(/.{1,2}/g);
  if (hex?.length !== 32 || !hex.every((pair) => /^[0-9a-f]{2}$/i.test(pair))) return undefined;
  return `${PREFIX}${hex.join(":").toUpperCase()}`;
}
