import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { childEnv, runShellScript } from "../fixtures/spawn-shell.js";
import { spawnServe, type ServeProcess } from "../helpers/spawn-serve.js";

// The shell scripted through a pipe (issue 4, item 5): no prompt, one command per line, the
// exit code of the first failure. A real `bftp serve` on port 0 answers.

let base: string;
let served: string;
let serve: ServeProcess;
let url: string;
let env: NodeJS.ProcessEnv;

before(async () => {
  base = await fs.mkdtemp(path.join(os.tmpdir(), "bftp-shell-script-"));
  served = path.join(base, "served");
  serve = await spawnServe(served);
  url = `bftp://127.0.0.1:${serve.port}`;
  env = childEnv(path.join(base, "state"));
});

after(async () => {
  await serve.stop();
  await fs.rm(base, { recursive: true, force: true });
});

/** A fresh local folder for one test. */
async function localDir(name: string): Promise<string> {
  const dir = path.join(base, name);
  await fs.mkdir(dir, { recursive: true });
  return dir;
}

const sha256 = (data: string | Buffer): string => createHash("sha256").update(data).digest("hex");

test("the acceptance script: every command, a failure in the middle, quit", async () => {
  const cwd = await localDir("accept");
  const content = "hello from the shell\n";
  await fs.writeFile(path.join(cwd, "local file.txt"), content);
  const script = [
    "pwd",
    "mkdir d",
    `put "local file.txt" d/x`,
    String.raw`put local\ file.txt 'd/with space.txt'`,
    "ls d",
    "cd d",
    "get x OUT",
    "rm x",
    "cd nope",
    `stat "with space.txt"`,
    `hash "with space.txt"`,
    "pwd",
    "quit",
    "mkdir /after-quit",
  ].join("\n");
  const { code, stdout, stderr } = await runShellScript(url, `${script}\n`, { cwd, env });
  assert.equal(code, 1, `the first failure (cd nope) is a refusal: exit 1\n${stderr}`);
  // The lines are bftp's own (the shell runs the command line's operations: issue 13, item 9).
  const lines = stdout.split("\n");
  assert.equal(lines[0], "/", "pwd");
  const ls = lines.indexOf("with space.txt");
  assert.deepEqual(lines.slice(ls, ls + 2), ["with space.txt", "x"], "ls d, sorted");
  assert.ok(lines.includes("    type: file"), stdout);
  assert.ok(lines.includes("    size: 21 (21 B)"), stdout);
  assert.ok(lines.includes(`${sha256(content)}  with space.txt`), stdout);
  assert.equal(lines.at(-2), "/d", "the failed cd left the folder as it was");
  const errors = stderr.trim().split("\n");
  assert.equal(errors.length, 2, stderr);
  assert.match(errors[0] ?? "", /^error: .+ \(BFTP_ERR_NOT_FOUND\)$/);
  assert.equal(errors[1], "bftp: stdin:9: cd nope: failed (exit 1)", "the failed line, named");
  assert.equal(await fs.readFile(path.join(served, "d", "with space.txt"), "utf8"), content);
  assert.equal(await fs.readFile(path.join(cwd, "OUT"), "utf8"), content);
  assert.deepEqual((await fs.readdir(path.join(served, "d"))).sort(), ["with space.txt"]);
  await assert.rejects(fs.stat(path.join(served, "after-quit")), "nothing runs after quit");
});

test("a script that succeeds exits 0; comments, blank lines and CRLF are fine", async () => {
  const cwd = await localDir("ok");
  const script = "# set up\r\nmkdir -p ok/a/b\r\n\r\n  cd ok/a   # trailing comment\r\npwd\r\n";
  const { code, stdout, stderr } = await runShellScript(url, script, { cwd, env });
  assert.equal(code, 0, stderr);
  assert.equal(stdout.split("\n").at(-2), "/ok/a");
  assert.equal(stderr, "");
});

test("the exit code is the first failure's; --stop-on-error stops there", async () => {
  const cwd = await localDir("codes");
  const goOn = await runShellScript(url, "frobnicate\nget\ncd nope\nmkdir codes-1\n", {
    cwd,
    env,
  });
  assert.equal(goOn.code, 2, "a command written wrongly is a usage error");
  // Each failure, then the line that failed: stdin:LINE: COMMAND.
  assert.equal(goOn.stderr.trim().split("\n").length, 6, goOn.stderr);
  assert.match(goOn.stderr, /^bftp: stdin:1: frobnicate: failed \(exit 2\)$/mu);
  assert.match(goOn.stderr, /^bftp: stdin:3: cd nope: failed \(exit 1\)$/mu);
  assert.match(goOn.stderr, /\(BFTP_ERR_INVALID_ARGUMENT\)\n/);
  await fs.stat(path.join(served, "codes-1")); // the script went on

  const stop = await runShellScript(url, "mkdir codes-2\ncd nope\nmkdir codes-3\n", {
    cwd,
    env,
    args: ["--stop-on-error"],
  });
  assert.equal(stop.code, 1);
  await fs.stat(path.join(served, "codes-2"));
  await assert.rejects(fs.stat(path.join(served, "codes-3")));
});

test("get -r and put -r follow cp -r; a folder without -r is refused", async () => {
  const cwd = await localDir("tree");
  await fs.mkdir(path.join(cwd, "src", "a", "b"), { recursive: true });
  await fs.writeFile(path.join(cwd, "src", "top.txt"), "top");
  await fs.writeFile(path.join(cwd, "src", "a", "b", "deep file.txt"), "deep");
  await fs.mkdir(path.join(cwd, "existing"));
  const script = [
    "mkdir trees",
    "cd trees",
    "mkdir into",
    "put -r src into", // an existing folder receives src inside it
    "put -r src copy", // a new name becomes the copy
    "get -r copy back", // likewise locally
    "get -r into/src existing",
    "ls -l into/src",
    "get copy",
  ].join("\n");
  const { code, stdout, stderr } = await runShellScript(url, `${script}\n`, { cwd, env });
  // As bftp get: a folder without -r is BFTP_ERR_IS_A_DIRECTORY, with the hint to use -r.
  assert.equal(code, 1, `get of a folder without -r is refused\n${stderr}`);
  assert.match(stderr, /-r.*\(BFTP_ERR_IS_A_DIRECTORY\)/u);
  for (const remote of ["into/src", "copy"]) {
    const root = path.join(served, "trees", remote);
    assert.equal(await fs.readFile(path.join(root, "top.txt"), "utf8"), "top");
    assert.equal(await fs.readFile(path.join(root, "a", "b", "deep file.txt"), "utf8"), "deep");
  }
  for (const local of ["back", path.join("existing", "src")]) {
    const root = path.join(cwd, local);
    assert.equal(await fs.readFile(path.join(root, "a", "b", "deep file.txt"), "utf8"), "deep");
  }
  assert.match(stdout, /^d +\d+ \d{4}-\d\d-\d\d \d\d:\d\d a$/m, "ls -l shows a folder");
  assert.match(stdout, /^- +3 \d{4}-\d\d-\d\d \d\d:\d\d top\.txt$/m);
});

test("names from the server are printed with control characters escaped", async () => {
  const cwd = await localDir("hostile");
  await fs.mkdir(path.join(served, "hostile"));
  await fs.writeFile(path.join(served, "hostile", "evil\u001b[2Jname\u0007"), "x");
  const { code, stdout } = await runShellScript(url, "cd hostile\nls\nls -l\n", { cwd, env });
  assert.equal(code, 0);
  assert.ok(stdout.includes("evil\\x1b[2Jname\\x07"), stdout);
  // eslint-disable-next-line no-control-regex
  assert.doesNotMatch(stdout, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/u);
});

test("local commands, help, and the output of a scripted session", async () => {
  const cwd = await localDir("local");
  await fs.mkdir(path.join(cwd, "sub"));
  await fs.writeFile(path.join(cwd, "sub", "f.txt"), "f");
  const script = "lpwd\nlls\nlcd sub\nlpwd\nlls\nlcd /nonexistent\nhelp\nhelp get\nhelp nope\n";
  const { code, stdout, stderr } = await runShellScript(url, script, { cwd, env });
  assert.equal(code, 1, stderr);
  const real = await fs.realpath(cwd);
  // lls is the local ls (as in sftp), so its lines are ls's.
  assert.ok(stdout.startsWith(`${real}\nsub\n${path.join(real, "sub")}\nf.txt\n`), stdout);
  assert.match(stdout, /^ {2}get +download files or globs, or with -r a folder$/m);
  assert.match(stdout, /^usage: get \[-rcp\] /m);
  assert.match(stderr, /\(BFTP_ERR_LOCAL_FILE\)/);
  assert.match(stderr, /\(BFTP_ERR_INVALID_ARGUMENT\)/);
});

test("a lost connection is reported and the shell exits 4", async () => {
  const cwd = await localDir("lost");
  const own = await spawnServe(path.join(base, "served-lost"), ["--shutdown-grace", "0.1"]);
  let stopping: Promise<unknown> | undefined;
  const result = await runShellScript(`bftp://127.0.0.1:${own.port}`, "pwd\n", {
    cwd,
    env,
    keepOpen: true,
    onStdout: (soFar, stdin) => {
      if (stopping !== undefined || !soFar.includes("/\n")) return;
      stopping = own.stop().then(() => {
        stdin.end("ls\npwd\n");
      });
    },
  });
  await stopping;
  assert.equal(result.code, 4, result.stderr);
  assert.match(result.stderr, /^error: .+ \(BFTP_ERR_[A-Z_]+\)$/m);
  assert.match(result.stderr, /lost the connection/);
  assert.equal(result.stdout, "/\n", "nothing ran after the loss");
});

test("a refused connection exits 3 and says how to start a server", async () => {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  const cwd = await localDir("refused");
  const { code, stderr } = await runShellScript(`bftp://127.0.0.1:${port}`, "pwd\n", { cwd, env });
  assert.equal(code, 3);
  assert.match(stderr, /bftp serve.*\(BFTP_ERR_CONNECTION_REFUSED\)/);
});
