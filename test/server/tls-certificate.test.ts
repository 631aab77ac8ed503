import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { X509Certificate, createPrivateKey } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { certificateFingerprint, parseFingerprint } from "../../src/protocol/fingerprint.js";
import { derElement, derOid, derTime } from "../../src/server/der.js";
import { createSelfSignedCertificate } from "../../src/server/self-signed-cert.js";
import {
  CERT_FILE,
  KEY_FILE,
  loadIdentity,
  loadOrCreateIdentity,
} from "../../src/server/tls-identity.js";
import { rejectsWithCode } from "../helpers/assert-code.js";

// Issue 7: `bftp serve --tls` makes a self-signed certificate on the first run (key mode
// 0600, written atomically) and reuses it; Node has no certificate builder, so der.ts and
// self-signed-cert.ts encode one, and Node and openssl must both accept what they make.

let dir: string;

before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "bftp-cert-"));
});

after(() => fs.rm(dir, { recursive: true, force: true }));

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

test("DER: short and long lengths, OIDs and times as X.690 and RFC 5280 write them", () => {
  assert.equal(hex(derElement(0x04, Buffer.alloc(3))), "0403000000");
  assert.equal(hex(derElement(0x04, Buffer.alloc(200)).subarray(0, 3)), "0481c8");
  assert.equal(hex(derElement(0x04, Buffer.alloc(300)).subarray(0, 4)), "0482012c");
  // id-ecPublicKey and ecdsa-with-SHA256, as every certificate carries them.
  assert.equal(hex(derOid("1.2.840.10045.2.1")), "06072a8648ce3d0201");
  assert.equal(hex(derOid("1.2.840.10045.4.3.2")), "06082a8648ce3d040302");
  // UTCTime up to 2049, GeneralizedTime from 2050.
  assert.equal(
    derTime(new Date(Date.UTC(2049, 11, 31, 23, 59, 59))).toString("latin1"),
    "\x17\x0d491231235959Z",
  );
  assert.equal(
    derTime(new Date(Date.UTC(2050, 0, 1, 0, 0, 0))).toString("latin1"),
    "\x18\x0f20500101000000Z",
  );
});

test("the self-signed certificate parses, is self-signed, matches its key, never expires", async () => {
  const notBefore = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
  const { key, cert } = await createSelfSignedCertificate({ commonName: "bftp t", notBefore });
  const x509 = new X509Certificate(cert);
  assert.equal(x509.subject, "CN=bftp t");
  assert.equal(x509.issuer, "CN=bftp t");
  assert.equal(new Date(x509.validFrom).getTime(), notBefore.getTime());
  assert.equal(new Date(x509.validTo).toISOString(), "9999-12-31T23:59:59.000Z");
  assert.equal(x509.ca, false);
  assert.ok(x509.verify(x509.publicKey), "signed by its own key");
  assert.ok(x509.checkPrivateKey(createPrivateKey(key)));
  assert.equal(x509.publicKey.asymmetricKeyDetails?.namedCurve, "prime256v1");
  assert.deepEqual(x509.keyUsage, ["1.3.6.1.5.5.7.3.1"]); // extKeyUsage serverAuth
  // A positive serial with no leading zero byte.
  assert.match(x509.serialNumber, /^[4-7][0-9A-F]{31}$/);
  // Another key does not match it.
  const other = await createSelfSignedCertificate();
  assert.equal(x509.checkPrivateKey(createPrivateKey(other.key)), false);
});

test("openssl reads the certificate as we meant it", async (t) => {
  const { cert } = await createSelfSignedCertificate({ commonName: "bftp openssl" });
  const file = path.join(dir, "openssl.pem");
  await fs.writeFile(file, cert);
  let text: string;
  try {
    text = execFileSync(
      "openssl",
      ["x509", "-in", file, "-noout", "-text", "-fingerprint", "-sha256"],
      {
        encoding: "utf8",
      },
    );
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      t.skip("openssl is not installed");
      return;
    }
    throw err;
  }
  assert.match(text, /Version: 3 \(0x2\)/);
  assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
  assert.match(text, /Subject: CN ?= ?bftp openssl/);
  assert.match(text, /Not After : Dec 31 23:59:59 9999 GMT/);
  assert.match(text, /X509v3 Basic Constraints: critical\s+CA:FALSE/);
  assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature/);
  assert.match(text, /TLS Web Server Authentication/);
  // openssl's fingerprint is ours: what the server prints is what an operator can check.
  const openssl = /sha256 Fingerprint=([0-9A-F:]+)/i.exec(text)?.[1];
  assert.equal(`SHA256:${openssl ?? "?"}`, certificateFingerprint(cert));
  // And it verifies its own signature.
  execFileSync("openssl", ["verify", "-CAfile", file, file], { encoding: "utf8" });
});

test("fingerprints: canonical form, and people may write them without prefix or colons", async () => {
  const { cert } = await createSelfSignedCertificate();
  const fp = certificateFingerprint(cert);
  assert.match(fp, /^SHA256:([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  assert.equal(parseFingerprint(fp.toLowerCase()), fp);
  assert.equal(parseFingerprint(fp.slice("SHA256:".length).replaceAll(":", "")), fp);
  for (const bad of ["", "SHA256:", "SHA256:AB:CD", `${fp}:00`, fp.replace(/.$/, "G")]) {
    assert.equal(parseFingerprint(bad), undefined, bad);
  }
});

test("loadOrCreateIdentity creates the pair once (key 0600, folder 0700) and reuses it", async () => {
  const conf = path.join(dir, "conf");
  const first = await loadOrCreateIdentity(conf);
  assert.equal(first.created, true);
  assert.equal(first.certFile, path.join(conf, CERT_FILE));
  assert.equal(first.keyFile, path.join(conf, KEY_FILE));
  assert.equal((await fs.stat(first.keyFile)).mode & 0o777, 0o600);
  assert.equal((await fs.stat(conf)).mode & 0o777, 0o700);
  assert.deepEqual((await fs.readdir(conf)).sort(), [CERT_FILE, KEY_FILE].sort()); // no temp left
  assert.equal(first.fingerprint, certificateFingerprint(await fs.readFile(first.certFile)));

  const again = await loadOrCreateIdentity(conf);
  assert.equal(again.created, false);
  assert.equal(again.fingerprint, first.fingerprint);
  assert.equal(again.key, first.key);
});

test("a certificate whose key is missing is refused, not replaced", async () => {
  const conf = path.join(dir, "lost-key");
  const made = await loadOrCreateIdentity(conf);
  await fs.rm(made.keyFile);
  await rejectsWithCode(loadOrCreateIdentity(conf), "BFTP_ERR_LOCAL_FILE");
  assert.equal(certificateFingerprint(await fs.readFile(made.certFile)), made.fingerprint);
});

test("--cert/--key: a pair that does not match, or a file that is not PEM, is refused", async () => {
  const a = await loadOrCreateIdentity(path.join(dir, "a"));
  const b = await loadOrCreateIdentity(path.join(dir, "b"));
  const own = await loadIdentity(a.certFile, a.keyFile);
  assert.equal(own.fingerprint, a.fingerprint);
  assert.equal(own.created, false);
  await rejectsWithCode(loadIdentity(a.certFile, b.keyFile), "BFTP_ERR_LOCAL_FILE");
  await rejectsWithCode(loadIdentity(a.keyFile, a.keyFile), "BFTP_ERR_LOCAL_FILE");
  await rejectsWithCode(loadIdentity(a.certFile, a.certFile), "BFTP_ERR_LOCAL_FILE");
  await rejectsWithCode(loadIdentity(path.join(dir, "none.pem"), a.keyFile), "BFTP_ERR_LOCAL_FILE");
});
