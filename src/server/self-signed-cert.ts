import { generateKeyPair, randomBytes, sign, type KeyObject } from "node:crypto";
import { promisify } from "node:util";
import {
  derBitString,
  derBoolean,
  derExplicit,
  derInteger,
  derNamedBits,
  derOctetString,
  derOid,
  derSequence,
  derSet,
  derSmallInteger,
  derTime,
  derUtf8String,
} from "./der.js";

const OID = {
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  commonName: "2.5.4.3",
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
  extKeyUsage: "2.5.29.37",
  serverAuth: "1.3.6.1.5.5.7.3.1",
} as const;

/**
 * RFC 5280 §4.1.2.5: "no well-defined expiration date". The certificate is trusted by its
 * pinned fingerprint (like an ssh host key), not by dates; an expiry would only break every
 * client one day without making anything safer.
 */
const NO_EXPIRY = new Date(Date.UTC(9999, 11, 31, 23, 59, 59));

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
 * Node has no certificate builder, so the TBSCertificate is encoded here (der.ts) and signed
 * with node:crypto: no dependency, and a P-256 key takes a millisecond where RSA in
 * JavaScript takes seconds.
 *
 * @example
 * const { key, cert } = await createSelfSignedCertificate({ commonName: "files.local" });
 * tls.createServer({ key, cert, minVersion: "TLSv1.2" });
 */
export async function createSelfSignedCertificate(
  options: SelfSignedOptions = {},
): Promise<CertificatePair> {
  const { publicKey, privateKey } = await promisify(generateKeyPair)("ec", {
    namedCurve: "prime256v1",
  });
  const name = derSequence(
    derSet(derSequence(derOid(OID.commonName), derUtf8String(options.commonName ?? "bftp"))),
  );
  const algorithm = derSequence(derOid(OID.ecdsaWithSha256)); // parameters absent (RFC 5758)
  const tbs = derSequence(
    derExplicit(0, derSmallInteger(2)), // v3
    derInteger(serialNumber()),
    algorithm,
    name, // issuer: self-signed, the same as the subject
    derSequence(derTime(options.notBefore ?? new Date(Date.now() - 3600_000)), derTime(NO_EXPIRY)),
    name,
    spki(publicKey),
    derExplicit(3, derSequence(...extensions())),
  );
  const signature = sign("sha256", tbs, privateKey); // ECDSA-Sig-Value, DER
  const certificate = derSequence(tbs, algorithm, derBitString(signature));
  return {
    key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    cert: pem("CERTIFICATE", certificate),
  };
}

/** A positive 127-bit random serial, never with a leading zero byte (RFC 5280 §4.1.2.2). */
function serialNumber(): Buffer {
  const serial = randomBytes(16);
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x40;
  return serial;
}

/** The SubjectPublicKeyInfo, as Node encodes it. */
function spki(publicKey: KeyObject): Buffer {
  return publicKey.export({ type: "spki", format: "der" });
}

/** basicConstraints CA:FALSE, keyUsage digitalSignature, extKeyUsage serverAuth. */
function extensions(): Buffer[] {
  const extension = (oid: string, critical: boolean, value: Buffer): Buffer =>
    derSequence(derOid(oid), ...(critical ? [derBoolean(true)] : []), derOctetString(value));
  return [
    extension(OID.basicConstraints, true, derSequence()), // cA defaults to FALSE
    extension(OID.keyUsage, true, derNamedBits([0])), // digitalSignature
    extension(OID.extKeyUsage, false, derSequence(derOid(OID.serverAuth))),
  ];
}

/** PEM armour: base64 in lines of 64. */
function pem(label: string, der: Uint8Array): string {
  const lines =
    Buffer.from(der)
      .toString("base64")
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
