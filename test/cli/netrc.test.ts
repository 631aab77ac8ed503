import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { parseNetrc } from "../../src/cli/netrc.js";
import { jsonOf, runCli } from "../helpers/run-cli.js";
import { spawnServe, type ServeProcess } from "../helpers/spawn-serve.js";

// Issue 13, item 5: saved logins. A script logs in with no prompt (stdin closed, no
// BFTP_PASSWORD) from ~/.netrc or the config folder's credentials file, both 0600; a file
// others can read is refused, as ssh refuses such a key. HOME is temporary, never the real one.

let base: string;
let home: string;
let serve: ServeProcess;
let url: string;

before(async () => {
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-cli-netrc-")));
  home = path.join(base, "home");
  const served = path.join(base, "served");
  const serverConfig = path.join(base, "server-config");
  await fs.mkdir(served);
  await fs.mkdir(path.join(home, ".config", "bftp"), { recursive: true });
  await fs.writeFile(path.join(served, "a.txt"), "a\n");
  const added = await runCli(["user", "add", "ann", "--config-dir", serverConfig], {
    env: { BFTP_PASSWORD: "ann-pw" },
  });
  assert.equal(added.code, 0, added.stderr);
  serve = await spawnServe(served, ["--config-dir", serverConfig, "--login-delay", "0"]);
  url = `bftp://127.0.0.1:${serve.port}`;
});

after(async () => {
  await serve.stop();
  await fs.rm(base, { recursive: true, force: true });
});

const netrcFile = () => path.join(home, ".netrc");
const credentialsFile = () => path.join(home, ".config", "bftp", "credentials");

/** Writes `text` to `file` with `mode` (set after writing: the umask does not decide it). */
async function writeSecret(file: string, text: string, mode = 0o600): Promise<void> {
  await fs.writeFile(file, text);
  await fs.chmod(file, mode);
}

/** Runs the CLI with the temporary HOME, no BFTP_PASSWORD unless given, stdin closed. */
function cli(args: readonly string[], extra: Record<string, string> = {}) {
  return runCli(args, {
    env: { HOME: home, XDG_CONFIG_HOME: path.join(home, ".config"), NETRC: netrcFile(), ...extra },
  });
}

async function reset(): Promise<void> {
  await fs.rm(netrcFile(), { force: true });
  await fs.rm(credentialsFile(), { force: true });
}

function codeOf(result: { stdout: string }): string {
  return (jsonOf(result)["error"] as { code: string }).code;
}

test("parseNetrc reads machine entries, quoted tokens and comments, and skips macdef and default", () => {
  const text = [
    "# saved logins",
    "machine a.local login ann password s3cret",
    'machine "b.local" login "bob smith" password "with \\" quote"',
    "macdef init",
    "machine evil.local login x password y",
    "",
    "default login anyone password any",
    "machine c.local",
    "  login carol",
    "  account ignored",
    "  password pw # trailing comment",
  ].join("\n");
  assert.deepEqual(parseNetrc(text), [
    { machine: "a.local", login: "ann", password: "s3cret" },
    { machine: "b.local", login: "bob smith", password: 'with " quote' },
    { machine: "c.local", login: "carol", password: "pw" },
  ]);
  assert.deepEqual(parseNetrc(""), []);
});

test("a 0600 ~/.netrc logs a script in with no prompt: user and password", async () => {
  await reset();
  await writeSecret(netrcFile(), "machine 127.0.0.1 login ann password ann-pw\n");
  const result = await cli(["ls", "--json", `${url}/`]);
  assert.equal(result.code, 0, result.stderr);
  const named = await cli(["get", "--json", `${url}/a.txt`, path.join(base, "a-copy.txt")], {
    BFTP_PASSWORD: "",
  });
  // An empty BFTP_PASSWORD is still BFTP_PASSWORD: it wins over netrc, and is refused.
  assert.equal(named.code, 1);
  assert.equal(codeOf(named), "BFTP_ERR_LOGIN_FAILED");
  const user = await cli(["ls", "--json", "--user", "ann", `${url}/`]);
  assert.equal(user.code, 0, user.stderr);
});

test("a netrc others can read is refused with BFTP_ERR_INSECURE_FILE", async () => {
  await reset();
  await writeSecret(netrcFile(), "machine 127.0.0.1 login ann password ann-pw\n", 0o644);
  const result = await cli(["ls", "--json", `${url}/`]);
  assert.equal(result.code, 1);
  assert.equal(codeOf(result), "BFTP_ERR_INSECURE_FILE");
  await writeSecret(netrcFile(), "machine 127.0.0.1 login ann password ann-pw\n", 0o640);
  assert.equal(codeOf(await cli(["ls", "--json", `${url}/`])), "BFTP_ERR_INSECURE_FILE");
  // BFTP_PASSWORD with a user needs no saved login: the file is not read.
  const typed = await cli(["ls", "--json", "--user", "ann", `${url}/`], {
    BFTP_PASSWORD: "ann-pw",
  });
  assert.equal(typed.code, 0, typed.stderr);
});

test("$NETRC names another file", async () => {
  await reset();
  const other = path.join(base, "other-netrc");
  await writeSecret(other, "machine 127.0.0.1\n login ann\n password ann-pw\n");
  const result = await cli(["ls", "--json", `${url}/`], { NETRC: other });
  assert.equal(result.code, 0, result.stderr);
});

test("the credentials file comes before netrc, and HOST:PORT before HOST", async () => {
  await reset();
  await writeSecret(netrcFile(), "machine 127.0.0.1 login ann password wrong\n");
  await writeSecret(
    credentialsFile(),
    `machine 127.0.0.1 login ann password wrong-too\nmachine 127.0.0.1:${serve.port} login ann password ann-pw\n`,
  );
  const result = await cli(["ls", "--json", `${url}/`]);
  assert.equal(result.code, 0, result.stderr);
  await fs.chmod(credentialsFile(), 0o604);
  assert.equal(codeOf(await cli(["ls", "--json", `${url}/`])), "BFTP_ERR_INSECURE_FILE");
});

test("a saved login for another user, or a default entry, does not apply", async () => {
  await reset();
  await writeSecret(
    netrcFile(),
    "machine 127.0.0.1 login ann password ann-pw\ndefault login ann password ann-pw\n",
  );
  // bob has no saved password and there is no terminal: asked for BFTP_PASSWORD (exit 2).
  const bob = await cli(["ls", "--json", `bftp://bob@127.0.0.1:${serve.port}/`]);
  assert.equal(bob.code, 2);
  assert.equal(codeOf(bob), "BFTP_ERR_INVALID_ARGUMENT");
  // localhost is another machine name: only "default" would match it, and it is ignored.
  const other = await cli(["ls", "--json", `bftp://localhost:${serve.port}/`]);
  assert.equal(other.code, 1);
  assert.equal(codeOf(other), "BFTP_ERR_NOT_AUTHENTICATED");
});

test("a named remote and a saved login: a script with nothing typed", async () => {
  await reset();
  await writeSecret(netrcFile(), "machine 127.0.0.1 login ann password ann-pw\n");
  await fs.writeFile(
    path.join(home, ".config", "bftp", "config.toml"),
    `[remotes.files]\nhost = "127.0.0.1"\nport = ${serve.port}\nuser = "ann"\n`,
  );
  const result = await cli(["get", "--json", "files:a.txt", path.join(base, "via-remote.txt")]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(await fs.readFile(path.join(base, "via-remote.txt"), "utf8"), "a\n");
});
