import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { jsonOf, runCli } from "../helpers/run-cli.js";
import { spawnServe, type ServeProcess } from "../helpers/spawn-serve.js";

// Issue 13, item 5: named remotes of the client's config.toml, usable as NAME:PATH wherever
// a location is. The configuration comes from a temporary HOME and XDG_CONFIG_HOME.

let base: string;
let served: string;
let home: string;
let work: string;
let serve: ServeProcess;
let env: Record<string, string>;

/** Writes the client's config.toml in `dir` (default: the temporary HOME's). */
async function writeConfig(text: string, dir = path.join(home, ".config", "bftp")): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, "config.toml"), text);
}

before(async () => {
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-cli-remotes-")));
  served = path.join(base, "served");
  home = path.join(base, "home");
  work = path.join(base, "work");
  const serverConfig = path.join(base, "server-config");
  await fs.mkdir(path.join(served, "projects", "inbox"), { recursive: true });
  await fs.mkdir(work);
  await fs.writeFile(path.join(served, "projects", "a.txt"), "in projects\n");
  await fs.writeFile(path.join(served, "top.txt"), "at the top\n");
  await fs.writeFile(path.join(work, "note.txt"), "a note\n");
  const added = await runCli(["user", "add", "ann", "--config-dir", serverConfig], {
    env: { BFTP_PASSWORD: "ann-pw" },
  });
  assert.equal(added.code, 0, added.stderr);
  serve = await spawnServe(served, ["--config-dir", serverConfig, "--login-delay", "0"]);
  env = {
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, ".config"),
    NETRC: path.join(home, "no-netrc"),
    BFTP_PASSWORD: "ann-pw",
  };
  await writeConfig(`# named remotes
[remotes.home]
host = "127.0.0.1"
port = ${serve.port}
user = "ann"
path = "/projects"

[remotes.C]
host = "127.0.0.1"
port = ${serve.port}
user = "ann"
`);
});

after(async () => {
  await serve.stop();
  await fs.rm(base, { recursive: true, force: true });
});

const cli = (...args: string[]) => runCli(args, { cwd: work, env });

test("NAME: is the remote's folder, NAME:PATH is relative to it, NAME:/PATH absolute", async () => {
  const listed = await cli("ls", "--json", "home:");
  assert.equal(listed.code, 0, listed.stderr);
  assert.equal(jsonOf(listed)["path"], "/projects");
  assert.deepEqual(
    (jsonOf(listed)["entries"] as { name: string }[]).map((e) => e.name),
    ["a.txt", "inbox"],
  );
  const relative = await cli("get", "home:a.txt", "a.txt");
  assert.equal(relative.code, 0, relative.stderr);
  assert.equal(await fs.readFile(path.join(work, "a.txt"), "utf8"), "in projects\n");
  const absolute = await cli("get", "home:/top.txt", "top.txt");
  assert.equal(absolute.code, 0, absolute.stderr);
  assert.equal(await fs.readFile(path.join(work, "top.txt"), "utf8"), "at the top\n");
});

test("put, mkdir, mv, rm and globs take NAME:PATH too", async () => {
  const put = await cli("put", "note.txt", "home:inbox/");
  assert.equal(put.code, 0, put.stderr);
  assert.equal(
    await fs.readFile(path.join(served, "projects", "inbox", "note.txt"), "utf8"),
    "a note\n",
  );
  const mkdir = await cli("mkdir", "home:made");
  assert.equal(mkdir.code, 0, mkdir.stderr);
  // A second argument with a "/" before its ":" is a path, never a remote's name.
  const moved = await cli("mv", "home:inbox/note.txt", "./odd:name.txt");
  assert.equal(moved.code, 0, moved.stderr);
  assert.equal(
    await fs.readFile(path.join(served, "projects", "inbox", "odd:name.txt"), "utf8"),
    "a note\n",
  );
  const across = await cli("mv", "home:inbox/odd:name.txt", "home:made/");
  assert.equal(across.code, 0, across.stderr);
  const globbed = await cli("ls", "--json", "home:made/*.txt");
  assert.equal(globbed.code, 0, globbed.stderr);
  assert.deepEqual(
    (jsonOf(globbed)["entries"] as { name: string }[]).map((e) => e.name),
    ["odd:name.txt"],
  );
  const removed = await cli("rm", "home:made/odd:name.txt");
  assert.equal(removed.code, 0, removed.stderr);
  assert.deepEqual(await fs.readdir(path.join(served, "projects", "made")), []);
});

test("a one-letter name is a remote only when configured; C: is otherwise a drive", async () => {
  const configured = await cli("ls", "--json", "C:/projects");
  assert.equal(configured.code, 0, configured.stderr);
  assert.equal(jsonOf(configured)["path"], "/projects");
  const other = await cli("ls", "--json", "D:/projects");
  assert.equal(other.code, 2);
  assert.equal((jsonOf(other)["error"] as { code: string }).code, "BFTP_ERR_INVALID_ARGUMENT");
});

test("an unknown name is BFTP_ERR_UNKNOWN_REMOTE (exit 2); locations written wrongly stay usage errors", async () => {
  const unknown = await cli("ls", "--json", "work:docs");
  assert.equal(unknown.code, 2);
  assert.equal((jsonOf(unknown)["error"] as { code: string }).code, "BFTP_ERR_UNKNOWN_REMOTE");
  for (const text of ["./home:x", "/abs/home:x", "127.0.0.1:9921/a", "http://127.0.0.1/a"]) {
    const result = await cli("ls", "--json", text);
    assert.equal(result.code, 2, text);
    assert.equal(
      (jsonOf(result)["error"] as { code: string }).code,
      "BFTP_ERR_INVALID_ARGUMENT",
      text,
    );
  }
});

test("the remote's user logs in; --user overrides it", async () => {
  const other = await cli("ls", "--json", "--user", "bob", "home:");
  assert.equal(other.code, 1);
  assert.equal((jsonOf(other)["error"] as { code: string }).code, "BFTP_ERR_LOGIN_FAILED");
});

test("the shell opens a named remote in its folder", async () => {
  const result = await cli("shell", "home:");
  assert.equal(result.code, 0, result.stderr);
});

test("a config file with a password, or that is not TOML, is refused and named", async () => {
  const dir = path.join(base, "bad-config");
  await writeConfig(`[remotes.x]\nhost = "127.0.0.1"\npassword = "no"\n`, dir);
  const withPassword = await cli("ls", "--json", "--config-dir", dir, "x:");
  assert.equal(withPassword.code, 1);
  assert.equal((jsonOf(withPassword)["error"] as { code: string }).code, "BFTP_ERR_LOCAL_FILE");
  await writeConfig(`[remotes.x\nhost = `, dir);
  const broken = await cli("ls", "--json", "--config-dir", dir, "x:");
  assert.equal(broken.code, 1);
  assert.equal((jsonOf(broken)["error"] as { code: string }).code, "BFTP_ERR_LOCAL_FILE");
  // A URL never reads the file: a broken config does not stop bftp://.
  const url = await cli("ls", "--json", "--config-dir", dir, `bftp://ann@127.0.0.1:${serve.port}/`);
  assert.equal(url.code, 0, url.stderr);
});
