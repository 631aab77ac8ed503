import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { X509Certificate, createPrivateKey } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { BftpClient } from "../../src/client/client.js";
import { certificateFingerprint, parseFingerprint } from "../../src/protocol/fingerprint.js";
import { BftpServer } from "../../src/server/server.js";
import { createSelfSignedCertificate } from "../../src/server/self-signed-cert.js";
import {
  CERT_FILE,
  KEY_FILE,
  loadIdentity,
  loadOrCreateIdentity,
} from "../../src/server/tls-identity.js";
import { rejectsWithCode } from "../helpers/assert-code.js";

// Issue 7: `bftp serve --tls` makes a self-signed certificate on the first run (key mode
// 0600, written atomically) and reuses it. Issue 11: it is encoded by @peculiar/x509 (it was
// a hand-written DER encoder); Node and openssl must both accept what it makes, and a
// certificate the old encoder made must still load, with the fingerprint clients pinned.

let dir: string;

before(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "bftp-cert-"));
});

after(() => fs.rm(dir, { recursive: true, force: true }));

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

/** Made by the hand-written DER encoder this library replaced (commit 6f80fab), kept as is. */
const DER_ENCODER_FIXTURE = new URL("../../../test/fixtures/tls-der-encoder/", import.meta.url);
const DER_ENCODER_FINGERPRINT =
  "SHA256:61:50:20:EB:7E:A0:08:5E:BB:2A:B6:A7:D7:15:07:5F:9A:DF:80:39:AF:AB:1B:7B:F6:B9:DA:59:BB:C0:5E:B7";

test("a certificate the old DER encoder wrote still loads, keeps its fingerprint and serves TLS", async () => {
  const conf = path.join(dir, "old-encoder");
  await fs.mkdir(conf, { mode: 0o700 });
  for (const name of [CERT_FILE, KEY_FILE]) {
    await fs.copyFile(new URL(name, DER_ENCODER_FIXTURE), path.join(conf, name));
    await fs.chmod(path.join(conf, name), 0o600);
  }
  const identity = await loadOrCreateIdentity(conf);
  assert.equal(identity.created, false, "reused, not replaced");
  assert.equal(identity.fingerprint, DER_ENCODER_FINGERPRINT);
  const root = path.join(dir, "old-encoder-root");
  await fs.mkdir(root);
  const server = await BftpServer.start({ root, port: 0, tls: identity });
  try {
    const client = await BftpClient.connect(
      { host: "127.0.0.1", port: server.address().port },
      { tls: { fingerprint: DER_ENCODER_FINGERPRINT } },
    );
    try {
      assert.equal(await client.pwd(), "/");
    } finally {
      await client.close();
    }
  } finally {
    await server.close();
  }
});

test("names the encoder must escape or widen (commas, quotes, non-ASCII) come out as given", async () => {
  const names = ['bftp a,b+c="d"', "bftp \\back\\slash", "bftp my_host", "bftp héllo", "bftp ✓"];
  for (const commonName of names) {
    const { cert } = await createSelfSignedCertificate({ commonName });
    const x509 = new X509Certificate(cert);
    assert.ok(x509.verify(x509.publicKey), commonName);
    // Node prints the subject in RFC 2253 style: check by the structured form instead.
    assert.equal(x509.toLegacyObject().subject.CN, commonName);
  }
});
