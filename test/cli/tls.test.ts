import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { certificateFingerprint } from "../../src/protocol/fingerprint.js";
import { loadOrCreateIdentity } from "../../src/server/tls-identity.js";
import { childEnv, drivePty, runShellScript } from "../fixtures/spawn-shell.js";
import { jsonOf, runCli } from "../helpers/run-cli.js";
import { CLI, spawnServe, type ServeProcess } from "../helpers/spawn-serve.js";

// Issue 7 at the command line: `bftp serve --tls` makes its certificate once, prints the
// fingerprint and reuses it; client commands and the shell take bftps://, ask at a terminal
// on first contact (or trust with --accept-new), and refuse a changed certificate.

let base: string;
let served: string;
let serverConf: string;
let serve: ServeProcess;
let url: string;
/** XDG_CONFIG_HOME of the client runs: never the real ~/.config. */
let xdg: string;

before(async () => {
  base = await fs.mkdtemp(path.join(os.tmpdir(), "bftp-cli-tls-"));
  served = path.join(base, "served");
  serverConf = path.join(base, "server-conf");
  xdg = path.join(base, "xdg");
  serve = await spawnServe(served, ["--tls", "--config-dir", serverConf]);
  url = `bftps://127.0.0.1:${serve.port}`;
  await fs.writeFile(path.join(served, "hello.txt"), "hello over tls\n");
});

after(async () => {
  await serve.stop();
  await fs.rm(base, { recursive: true, force: true });
});

/** Runs `bftp ARGS` with its own client configuration folder. */
function bftp(args: readonly string[], options: { cwd?: string } = {}) {
  return runCli(args, { env: { XDG_CONFIG_HOME: xdg }, ...options });
}

const fingerprintLine = (lines: readonly string[]): string | undefined =>
  lines.find((l) => l.startsWith("certificate fingerprint "));

test("serve --tls creates the certificate once, prints its fingerprint, reuses it on restart", async () => {
  const certFile = path.join(serverConf, "tls-cert.pem");
  const fingerprint = certificateFingerprint(await fs.readFile(certFile));
  assert.equal(
    fingerprintLine(serve.stdout),
    `certificate fingerprint ${fingerprint} (created ${certFile})`,
  );
  assert.ok(serve.stdout.includes(`connect with: bftp shell ${url}  (or: bftp ls ${url}/)`));
  assert.equal((await fs.stat(path.join(serverConf, "tls-key.pem"))).mode & 0o777, 0o600);
  const again = await spawnServe(path.join(base, "again"), ["--tls", "--config-dir", serverConf]);
  try {
    assert.equal(
      fingerprintLine(again.stdout),
      `certificate fingerprint ${fingerprint} (${certFile})`,
    );
  } finally {
    assert.equal(await again.stop(), 0);
  }
});

test("no terminal, no --accept-new: an unknown server is refused with exit 3", async () => {
  const conf = path.join(base, "refuse-conf");
  const result = await bftp(["ls", "--json", "--config-dir", conf, `${url}/`]);
  assert.equal(result.code, 3);
  assert.deepEqual((jsonOf(result)["error"] as { code: string }).code, "BFTP_ERR_HOST_UNKNOWN");
  await assert.rejects(fs.stat(path.join(conf, "known_hosts")), { code: "ENOENT" });
});

test("--accept-new pins the server in $XDG_CONFIG_HOME/bftp/known_hosts; later runs need nothing", async () => {
  const first = await bftp(["ls", "--accept-new", `${url}/`]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /hello\.txt/);
  const identity = await loadOrCreateIdentity(serverConf);
  const knownHosts = await fs.readFile(path.join(xdg, "bftp", "known_hosts"), "utf8");
  assert.ok(knownHosts.includes(`127.0.0.1:${serve.port} ${identity.fingerprint}\n`));
  const second = await bftp(["stat", "--json", `${url}/hello.txt`]);
  assert.equal(second.code, 0, second.stderr);
  assert.equal((jsonOf(second)["entry"] as { size: number }).size, 15);
});

test("a changed certificate is refused even with --accept-new, naming the file and line", async () => {
  const conf = path.join(base, "changed-conf");
  const other = await loadOrCreateIdentity(path.join(base, "other-server"));
  await fs.mkdir(conf, { recursive: true });
  await fs.writeFile(
    path.join(conf, "known_hosts"),
    `127.0.0.1:${serve.port} ${other.fingerprint}\n`,
  );
  const json = await bftp(["ls", "--json", "--accept-new", "--config-dir", conf, `${url}/`]);
  assert.equal(json.code, 3);
  assert.equal((jsonOf(json)["error"] as { code: string }).code, "BFTP_ERR_HOST_KEY_CHANGED");
  const text = await bftp(["ls", "--accept-new", "--config-dir", conf, `${url}/`]);
  assert.equal(text.code, 3);
  // The one place a test reads the message: it must tell a person which file and line to edit.
  assert.ok(text.stderr.includes(path.join(conf, "known_hosts")), text.stderr);
  assert.match(text.stderr, /line 1\b/);
});

test("get, put and a scripted shell work over bftps://", async () => {
  const work = path.join(base, "work");
  await fs.mkdir(work);
  const conf = path.join(base, "transfer-conf");
  const got = await bftp(["get", "-q", "--accept-new", "--config-dir", conf, `${url}/hello.txt`], {
    cwd: work,
  });
  assert.equal(got.code, 0, got.stderr);
  assert.equal(await fs.readFile(path.join(work, "hello.txt"), "utf8"), "hello over tls\n");
  await fs.writeFile(path.join(work, "up.txt"), "uploaded\n");
  const put = await bftp(["put", "-q", "--config-dir", conf, "up.txt", `${url}/up.txt`], {
    cwd: work,
  });
  assert.equal(put.code, 0, put.stderr);
  assert.equal(await fs.readFile(path.join(served, "up.txt"), "utf8"), "uploaded\n");
  const shell = await runShellScript(url, "ls\nstat up.txt\n", {
    cwd: work,
    args: ["--config-dir", conf],
    env: childEnv(path.join(base, "state")),
  });
  assert.equal(shell.code, 0, shell.stderr);
  assert.match(shell.stdout, /up\.txt/);
});

test("bftp:// to a TLS server fails as a connection failure (exit 3)", async () => {
  const result = await bftp(["ls", "--json", `bftp://127.0.0.1:${serve.port}/`]);
  assert.equal(result.code, 3);
});

test("serve --cert/--key serve the operator's pair; one without the other is a usage error", async () => {
  const own = await loadOrCreateIdentity(path.join(base, "own"));
  const mine = await spawnServe(path.join(base, "own-served"), [
    "--cert",
    own.certFile,
    "--key",
    own.keyFile,
  ]);
  try {
    assert.equal(
      fingerprintLine(mine.stdout),
      `certificate fingerprint ${own.fingerprint} (${own.certFile})`,
    );
    const ls = await bftp(["ls", "--accept-new", `bftps://127.0.0.1:${mine.port}/`]);
    assert.equal(ls.code, 0, ls.stderr);
  } finally {
    await mine.stop();
  }
  const half = await runCli(["serve", path.join(base, "x"), "--port", "0", "--cert", own.certFile]);
  assert.equal(half.code, 2);
  const wrong = await runCli([
    "serve",
    path.join(base, "x"),
    "--port",
    "0",
    "--cert",
    own.certFile,
    "--key",
    path.join(serverConf, "tls-key.pem"),
  ]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /\(BFTP_ERR_LOCAL_FILE\)/);
});

test("at a terminal, first contact shows the fingerprint and asks: yes pins, no refuses", async () => {
  const identity = await loadOrCreateIdentity(serverConf);
  const esc = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const ask = async (conf: string, answer: string) =>
    drivePty(
      [CLI, "ls", "--config-dir", conf, `${url}/`],
      [
        { expect: esc(identity.fingerprint) },
        { expect: esc("Trust it and remember it? (yes/no) ") },
        { send: `${answer}\r` },
        { wait_exit: 10 },
      ],
      { cwd: base, env: childEnv(path.join(base, "pty-state")), deadlineS: 30 },
    );
  const no = await ask(path.join(base, "pty-no"), "no");
  assert.ok(no.ok, `${no.error ?? ""}\n${no.output}`);
  assert.equal(no.exit, 3);
  await assert.rejects(fs.stat(path.join(base, "pty-no", "known_hosts")), { code: "ENOENT" });
  const yes = await ask(path.join(base, "pty-yes"), "yes");
  assert.ok(yes.ok, `${yes.error ?? ""}\n${yes.output}`);
  assert.equal(yes.exit, 0);
  assert.match(yes.output, /hello\.txt/);
  const pinned = await fs.readFile(path.join(base, "pty-yes", "known_hosts"), "utf8");
  assert.ok(pinned.includes(identity.fingerprint));
});

test("the shell at a terminal asks on first contact, then runs on the same terminal", async () => {
  const conf = path.join(base, "pty-shell");
  const got = await drivePty(
    [CLI, "shell", "--config-dir", conf, url],
    [
      { expect: "\\(yes/no\\) " },
      { send: "y\r" },
      { expect: "bftp:/> " },
      { send: "ls\r" },
      { expect: "hello\\.txt" },
      { expect: "bftp:/> " },
      { send: "quit\r" },
      { wait_exit: 5 },
    ],
    { cwd: base, env: childEnv(path.join(base, "pty-shell-state")), deadlineS: 30 },
  );
  assert.ok(got.ok, `${got.error ?? ""}\n${got.output}`);
  assert.equal(got.exit, 0);
  assert.ok(
    (await fs.readFile(path.join(conf, "known_hosts"), "utf8")).includes(`:${serve.port} SHA256:`),
  );
});
