import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { BftpClient } from "../../src/client/client.js";
import type { UnknownHost } from "../../src/client/host-trust.js";
import { hostKey, parseKnownHosts } from "../../src/client/known-hosts.js";
import { certificateFingerprint } from "../../src/protocol/fingerprint.js";
import type { LogFields } from "../../src/server/logger.js";
import { BftpServer } from "../../src/server/server.js";
import { loadOrCreateIdentity, type TlsIdentity } from "../../src/server/tls-identity.js";
import { rejectsWithCode, throwsWithCode } from "../helpers/assert-code.js";
import { waitUntil } from "../helpers/wait-until.js";

// Issue 7: the client pins server certificates by fingerprint, trust on first use, like
// ssh's known_hosts. The check runs after the handshake and before HELLO: a server that is
// not trusted never receives a request.

let base: string;
let identity: TlsIdentity;
let server: BftpServer;
let port: number;
/** The server's disconnect events: how many requests each connection made. */
const requests: number[] = [];

before(async () => {
  base = await fs.mkdtemp(path.join(os.tmpdir(), "bftp-pin-"));
  await fs.mkdir(path.join(base, "root"));
  identity = await loadOrCreateIdentity(path.join(base, "server-conf"));
  const keep = (event: string, fields: LogFields = {}): void => {
    if (event === "disconnect") requests.push(Number(fields["requests"]));
  };
  server = await BftpServer.start({
    root: path.join(base, "root"),
    port: 0,
    tls: identity,
    log: { info: keep, warn: keep, error: keep },
  });
  port = server.address().port;
});

after(async () => {
  await server.close();
  await fs.rm(base, { recursive: true, force: true });
});

let files = 0;
const knownHostsFile = (): string => path.join(base, `client-${++files}`, "known_hosts");
const url = (): string => `bftps://127.0.0.1:${port}/`;

/** Waits for the server to log the end of the connection that was refused; returns its request count. */
async function lastRequests(before: number): Promise<number | undefined> {
  await waitUntil(() => requests.length > before, "the server logs the disconnect");
  return requests.at(-1);
}

test("an unknown server is refused without a callback, and hears no request", async () => {
  const knownHosts = knownHostsFile();
  const seen = requests.length;
  const err = await rejectsWithCode(
    BftpClient.connect(url(), { tls: { knownHosts } }),
    "BFTP_ERR_HOST_UNKNOWN",
  );
  assert.equal(err.details["actual"], identity.fingerprint);
  assert.equal(err.details["file"], knownHosts);
  assert.equal(await lastRequests(seen), 0);
  await assert.rejects(fs.stat(knownHosts), { code: "ENOENT" }); // nothing was pinned
});

test("first contact asks once; a yes pins the fingerprint (0600) and later connections just work", async () => {
  const knownHosts = knownHostsFile();
  const asked: UnknownHost[] = [];
  const client = await BftpClient.connect(url(), {
    tls: {
      knownHosts,
      onUnknownHost: (host) => {
        asked.push(host);
        return true;
      },
    },
  });
  assert.equal(await client.pwd(), "/");
  await client.close();
  assert.deepEqual(asked, [
    { host: `127.0.0.1:${port}`, fingerprint: identity.fingerprint, knownHosts },
  ]);
  assert.equal((await fs.stat(knownHosts)).mode & 0o777, 0o600);
  const pinned = parseKnownHosts(await fs.readFile(knownHosts, "utf8"), knownHosts);
  assert.deepEqual(
    pinned.map((e) => [e.host, e.fingerprint]),
    [[`127.0.0.1:${port}`, identity.fingerprint]],
  );
  // Known now: no question, with or without a callback; {host, port} with tls: true too.
  const again = await BftpClient.connect(
    { host: "127.0.0.1", port },
    {
      tls: {
        knownHosts,
        onUnknownHost: () => {
          throw new Error("asked about a known server");
        },
      },
    },
  );
  await again.close();
  const plain = await BftpClient.connect(url(), { tls: { knownHosts } });
  await plain.close();
});

test("a no at first contact refuses and pins nothing", async () => {
  const knownHosts = knownHostsFile();
  await rejectsWithCode(
    BftpClient.connect(url(), { tls: { knownHosts, onUnknownHost: () => false } }),
    "BFTP_ERR_HOST_UNKNOWN",
  );
  await assert.rejects(fs.stat(knownHosts), { code: "ENOENT" });
});

test("a changed certificate is refused, never asked about, and the error names the line", async () => {
  const knownHosts = knownHostsFile();
  const other = await loadOrCreateIdentity(path.join(base, "other-conf"));
  await fs.mkdir(path.dirname(knownHosts), { recursive: true });
  await fs.writeFile(
    knownHosts,
    `# pinned earlier\n127.0.0.1:1 ${identity.fingerprint}\n127.0.0.1:${port} ${other.fingerprint}\n`,
  );
  const seen = requests.length;
  let asked = 0;
  const err = await rejectsWithCode(
    BftpClient.connect(url(), {
      tls: {
        knownHosts,
        // What --accept-new does: even so, a changed certificate is refused.
        onUnknownHost: () => {
          asked++;
          return true;
        },
      },
    }),
    "BFTP_ERR_HOST_KEY_CHANGED",
  );
  assert.equal(asked, 0);
  assert.equal(err.details["file"], knownHosts);
  assert.equal(err.details["line"], 3);
  assert.equal(err.details["expected"], other.fingerprint);
  assert.equal(err.details["actual"], identity.fingerprint);
  assert.equal(await lastRequests(seen), 0);
  // The file is left as it was.
  assert.match(await fs.readFile(knownHosts, "utf8"), /^# pinned earlier\n/);
});

test("a fingerprint given to the library is the only one trusted", async () => {
  const other = await loadOrCreateIdentity(path.join(base, "other-conf"));
  const knownHosts = knownHostsFile();
  const lower = identity.fingerprint.toLowerCase().replace("sha256:", "");
  const client = await BftpClient.connect(url(), { tls: { fingerprint: lower, knownHosts } });
  await client.close();
  await assert.rejects(fs.stat(knownHosts), { code: "ENOENT" }); // not consulted, not written
  await rejectsWithCode(
    BftpClient.connect(url(), { tls: { fingerprint: other.fingerprint } }),
    "BFTP_ERR_HOST_KEY_CHANGED",
  );
  await rejectsWithCode(
    BftpClient.connect(url(), { tls: { fingerprint: "SHA256:12:34" } }),
    "BFTP_ERR_INVALID_ARGUMENT",
  );
});

test("the certificate is reused on restart: a pinned client trusts the restarted server", async () => {
  const conf = path.join(base, "restart-conf");
  const root = path.join(base, "root");
  const knownHosts = knownHostsFile();
  const first = await BftpServer.start({ root, port: 0, tls: await loadOrCreateIdentity(conf) });
  const firstPort = first.address().port;
  const where = `bftps://127.0.0.1:${firstPort}/`;
  try {
    const client = await BftpClient.connect(where, {
      tls: { knownHosts, onUnknownHost: () => true },
    });
    await client.close();
  } finally {
    await first.close();
  }
  const again = await loadOrCreateIdentity(conf);
  assert.equal(again.created, false);
  const restarted = await BftpServer.start({ root, port: firstPort, tls: again });
  try {
    const client = await BftpClient.connect(where, { tls: { knownHosts } }); // no question
    await client.close();
  } finally {
    await restarted.close();
  }
});

test("a malformed known_hosts line is an error that names it, not a pin silently ignored", async () => {
  const knownHosts = knownHostsFile();
  await fs.mkdir(path.dirname(knownHosts), { recursive: true });
  await fs.writeFile(knownHosts, `127.0.0.1:${port} SHA256:00:11\n`);
  const err = await rejectsWithCode(
    BftpClient.connect(url(), { tls: { knownHosts, onUnknownHost: () => true } }),
    "BFTP_ERR_LOCAL_FILE",
  );
  assert.equal(err.details["line"], 1);
  for (const bad of [
    "h SHA256:00",
    "h:1",
    `h:x ${identity.fingerprint}`,
    `h:1 ${identity.fingerprint} extra`,
  ]) {
    throwsWithCode(() => parseKnownHosts(bad, "f"), "BFTP_ERR_LOCAL_FILE");
  }
});

test("hostKey: names lower-cased, IPv6 in brackets, port always written", () => {
  assert.equal(hostKey("Files.Local", 9922), "files.local:9922");
  assert.equal(hostKey("::1", 9922), "[::1]:9922");
  assert.deepEqual(
    parseKnownHosts(`[::1]:9922 ${identity.fingerprint.toLowerCase()}\n\n# c\n`, "f"),
    [{ host: "[::1]:9922", fingerprint: identity.fingerprint, line: 1 }],
  );
});

test("bftps:// to a clear-text server fails as a TLS handshake, before any request", async () => {
  const clear = await BftpServer.start({ root: path.join(base, "root"), port: 0 });
  try {
    await rejectsWithCode(
      BftpClient.connect(`bftps://127.0.0.1:${clear.address().port}/`, {
        tls: { fingerprint: identity.fingerprint },
      }),
      "BFTP_ERR_TLS_HANDSHAKE",
    );
  } finally {
    await clear.close();
  }
  assert.equal(certificateFingerprint(identity.cert), identity.fingerprint);
});
