import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { jsonOf, runCli, type RunCliOptions } from "../helpers/run-cli.js";
import { spawnServe, type ServeProcess } from "../helpers/spawn-serve.js";

// Issue 13, item 8: a local failure names the local file, and says what went wrong with it.
// A download that could not be written named the remote path ("Cannot write the download of
// /a.txt"); a local file behind a folder without search permission was "no such file or
// folder". Root passes every permission check, so as root the CLI runs as nobody (65534).

const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;

let base: string;
let serve: ServeProcess;
let url: string;
let as: RunCliOptions;

before(async () => {
  base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "bftp-local-perm-")));
  await fs.chmod(base, 0o755);
  await fs.mkdir(path.join(base, "served"));
  await fs.writeFile(path.join(base, "served", "a.txt"), "remote bytes\n");
  // Writable by the CLI's user: its home (no config, no credentials) and a folder of its own.
  for (const dir of ["home", "mine"]) {
    await fs.mkdir(path.join(base, dir));
    if (asRoot) await fs.chown(path.join(base, dir), NOBODY, NOBODY);
  }
  await fs.writeFile(path.join(base, "mine", "ok.txt"), "local bytes\n");
  if (asRoot) await fs.chown(path.join(base, "mine", "ok.txt"), NOBODY, NOBODY);
  // Readable by everyone, writable by no one but root.
  await fs.mkdir(path.join(base, "read-only"), { mode: 0o555 });
  await fs.chmod(path.join(base, "read-only"), 0o555);
  // Closed to everyone but root: nothing below it can even be looked at.
  await fs.mkdir(path.join(base, "closed", "sub"), { recursive: true });
  await fs.writeFile(path.join(base, "closed", "sub", "x.txt"), "hidden\n");
  await fs.chmod(path.join(base, "closed"), 0o700);
  // A file only root may read, in a folder anyone may read.
  await fs.writeFile(path.join(base, "mine", "secret.txt"), "secret\n", { mode: 0o600 });
  if (!asRoot) await fs.chmod(path.join(base, "mine", "secret.txt"), 0o000);
  serve = await spawnServe(path.join(base, "served"));
  url = `bftp://127.0.0.1:${serve.port}`;
  as = {
    env: { HOME: path.join(base, "home"), XDG_CONFIG_HOME: path.join(base, "home", ".config") },
    ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}),
  };
});

after(async () => {
  await serve.stop();
  await fs.chmod(path.join(base, "closed"), 0o700).catch(() => undefined);
  await fs.rm(base, { recursive: true, force: true });
});

const errorOf = (result: { stdout: string }) =>
  jsonOf(result)["error"] as { code: string; message: string; errno?: string };

test("the CLI runs as a user that permissions apply to", async () => {
  const result = await runCli(["--version"], as);
  assert.equal(result.code, 0, result.stderr);
  if (asRoot) {
    // The check below is only meaningful if this user cannot write where root can.
    const probe = await runCli(
      ["get", "--json", `${url}/a.txt`, path.join(base, "read-only", "probe.txt")],
      as,
    );
    assert.equal(probe.code, 1);
  }
});

test("a download that cannot be written names the local file, with EACCES", async () => {
  const local = path.join(base, "read-only", "a.txt");
  const result = await runCli(["get", "--json", `${url}/a.txt`, local], as);
  assert.equal(result.code, 1);
  const error = errorOf(result);
  assert.equal(error.code, "BFTP_ERR_LOCAL_FILE");
  assert.equal(error.errno, "EACCES");
  assert.ok(error.message.includes(JSON.stringify(local)), error.message);
  await assert.rejects(fs.lstat(local), { code: "ENOENT" });
});

test("a local file behind a closed folder is EACCES, not 'no such file'", async () => {
  for (const args of [
    ["put", "--json", path.join(base, "closed", "sub", "x.txt"), `${url}/x.txt`],
    ["put", "--json", "-r", path.join(base, "closed", "sub"), `${url}/sub`],
    ["get", "--json", `${url}/a.txt`, `${path.join(base, "closed", "sub")}/`],
    [
      "put",
      "--json",
      path.join(base, "mine", "ok.txt"),
      path.join(base, "closed", "sub", "x.txt"),
      `${url}/`,
    ],
  ]) {
    const result = await runCli(args, as);
    assert.equal(result.code, 1, `${args.join(" ")}: ${result.stdout}${result.stderr}`);
    const error = errorOf(result);
    assert.equal(error.code, "BFTP_ERR_LOCAL_FILE", args.join(" "));
    assert.equal(error.errno, "EACCES", args.join(" "));
  }
  // Nothing was sent for any of them: the server holds only what it held.
  assert.deepEqual(await fs.readdir(path.join(base, "served")), ["a.txt"]);
});

test("a missing local file is still ENOENT, and says so", async () => {
  const result = await runCli(
    ["put", "--json", path.join(base, "mine", "absent.txt"), `${url}/absent.txt`],
    as,
  );
  assert.equal(result.code, 1);
  const error = errorOf(result);
  assert.equal(error.code, "BFTP_ERR_LOCAL_FILE");
  assert.notEqual(error.errno, "EACCES");
});

test("put -r names an unreadable file in its warning, with the reason, and sends the rest", async () => {
  const result = await runCli(["put", "--json", "-r", path.join(base, "mine"), `${url}/mine`], as);
  assert.equal(result.code, 5, result.stdout + result.stderr);
  const doc = jsonOf(result) as { warnings: string[] };
  const warning = doc.warnings.find((w) => w.includes(path.join(base, "mine", "secret.txt")));
  assert.ok(warning !== undefined, JSON.stringify(doc.warnings));
  assert.doesNotMatch(warning, /EACCES/u, "the reason in words, not the raw code");
  assert.equal(
    await fs.readFile(path.join(base, "served", "mine", "ok.txt"), "utf8"),
    "local bytes\n",
  );
  await assert.rejects(fs.lstat(path.join(base, "served", "mine", "secret.txt")), {
    code: "ENOENT",
  });
});
